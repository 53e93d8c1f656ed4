import Foundation
import XCTest

/// dptrain under a real Slurm: the test starts a one-node cluster of its own
/// (munged, slurmctld, slurmd; scripts/lib/slurm-lab.sh), submits the launch
/// file users copy, cluster/slurm/dptrain.sbatch, with 3 tasks, and checks
/// the model is `train`'s bytes. Every daemon is stopped by process id,
/// also when the test fails.
final class SlurmTests: XCTestCase {
    private func script(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                        timeout: Double) throws -> (status: Int32, output: String) {
        let folder = try temporaryFolder()
        let log = folder.appendingPathComponent("log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [String(Int(timeout)), path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    func testASbatchJobOfThreeTasksTrainsToTrainsBytes() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/slurmctld") else {
            throw XCTSkip("Slurm is not installed (scripts/setup.sh installs slurm-wlm and munge)")
        }
        guard getuid() == 0 else { throw XCTSkip("the test's Slurm runs its daemons as root") }
        let reference = try FailureRun.reference(epochs: 2)
        let lab = try temporaryFolder()
        let labScript = DPTrain.repository.appendingPathComponent("scripts/lib/slurm-lab.sh").path
        addTeardownBlock { _ = try? self.script(labScript, ["stop", lab.path], timeout: 30) }
        let started = try script(labScript, ["start", lab.path], timeout: 60)
        XCTAssertEqual(started.status, 0, started.output)
        guard started.status == 0 else { return }

        let run = lab.appendingPathComponent("run")
        let flags = Array(FailureRun.arguments("launch", out: run, epochs: 2).dropFirst())
            .filter { $0 != "--out" && $0 != run.path } + ["--listen", "tcp://127.0.0.1:*"]
        // sbatch --wait can pend forever if the job cannot be scheduled: the timeout ends it.
        let submitted = try script(
            "/usr/bin/sbatch",
            ["--wait", "--overcommit", "--ntasks", "3", "--chdir", lab.path,
             DPTrain.repository.appendingPathComponent("cluster/slurm/dptrain.sbatch").path] + flags,
            environment: ["SLURM_CONF": lab.appendingPathComponent("slurm.conf").path,
                          "DPTRAIN": DPTrain.executable.path, "DPTRAIN_RUN": run.path],
            timeout: 180)
        let jobLog = (try? FileManager.default.contentsOfDirectory(atPath: lab.path))?
            .filter { $0.hasPrefix("dptrain-") }
            .compactMap { try? String(contentsOf: lab.appendingPathComponent($0), encoding: .utf8) }
            .joined(separator: "\n") ?? ""
        XCTAssertEqual(submitted.status, 0, submitted.output + jobLog)
        for rank in 0..<3 { XCTAssertTrue(jobLog.contains("launch: slurm rank \(rank) of 3"), jobLog) }
        XCTAssertEqual(fileBytes(run.appendingPathComponent("model.safetensors")), reference, jobLog)
    }
}
