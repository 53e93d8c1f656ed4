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

    /// Starts the test's own Slurm in a fresh folder, stopped when the test
    /// ends whatever its outcome; skips where it cannot run.
    private func startLab() throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/slurmctld") else {
            throw XCTSkip("Slurm is not installed (scripts/setup.sh installs slurm-wlm and munge)")
        }
        guard getuid() == 0 else { throw XCTSkip("the test's Slurm runs its daemons as root") }
        let lab = try temporaryFolder()
        let labScript = DPTrain.repository.appendingPathComponent("scripts/lib/slurm-lab.sh").path
        addTeardownBlock { _ = try? self.script(labScript, ["stop", lab.path], timeout: 30) }
        let started = try script(labScript, ["start", lab.path], timeout: 60)
        guard started.status == 0 else { throw ManifestError("slurm-lab.sh start failed: \(started.output)") }
        return lab
    }

    /// The batch script's arguments for a run in `run`: launch's training flags without --out (the script sets it).
    private func batchFlags(run: URL, epochs: Int, extra: [String] = []) -> [String] {
        Array(FailureRun.arguments("launch", out: run, epochs: epochs, extra: extra).dropFirst())
            .filter { $0 != "--out" && $0 != run.path } + ["--listen", "tcp://127.0.0.1:*"]
    }

    private func labEnvironment(_ lab: URL, run: URL) -> [String: String] {
        ["SLURM_CONF": lab.appendingPathComponent("slurm.conf").path, "DPTRAIN": DPTrain.executable.path, "DPTRAIN_RUN": run.path]
    }

    /// Everything the job wrote to its output files.
    private func jobLog(_ lab: URL) -> String {
        (try? FileManager.default.contentsOfDirectory(atPath: lab.path))?
            .filter { $0.hasPrefix("dptrain-") }
            .compactMap { try? String(contentsOf: lab.appendingPathComponent($0), encoding: .utf8) }
            .joined(separator: "\n") ?? ""
    }

    private var batchScript: String { DPTrain.repository.appendingPathComponent("cluster/slurm/dptrain.sbatch").path }

    func testASbatchJobOfThreeTasksTrainsToTrainsBytes() throws {
        let reference = try FailureRun.reference(epochs: 2)
        let lab = try startLab()
        let run = lab.appendingPathComponent("run")
        // sbatch --wait can pend forever if the job cannot be scheduled: the timeout ends it.
        let submitted = try script(
            "/usr/bin/sbatch", ["--wait", "--overcommit", "--ntasks", "3", "--chdir", lab.path, batchScript] + batchFlags(run: run, epochs: 2),
            environment: labEnvironment(lab, run: run), timeout: 180)
        let jobLog = jobLog(lab)
        XCTAssertEqual(submitted.status, 0, submitted.output + jobLog)
        for rank in 0..<3 { XCTAssertTrue(jobLog.contains("launch: slurm rank \(rank) of 3"), jobLog) }
        XCTAssertEqual(fileBytes(run.appendingPathComponent("model.safetensors")), reference, jobLog)
    }

    /// `scontrol requeue` in the middle of epoch 2 (placed by the step rank 0
    /// reports): Slurm stops every task and runs the job again under the same
    /// id; the batch script finds the checkpoint and the run continues from
    /// it, to `train`'s bytes.
    func testARequeuedJobContinuesFromItsCheckpoint() throws {
        let epochs = FailureRun.epochs
        let reference = try FailureRun.reference(epochs: epochs)
        let lab = try startLab()
        let run = lab.appendingPathComponent("run")
        let environment = labEnvironment(lab, run: run)
        let submitted = try script(
            "/usr/bin/sbatch", ["--parsable", "--overcommit", "--ntasks", "3", "--chdir", lab.path, batchScript]
                + batchFlags(run: run, epochs: epochs, extra: FailureRun.stepLog),
            environment: environment, timeout: 60)
        XCTAssertEqual(submitted.status, 0, submitted.output)
        let job = try XCTUnwrap(submitted.output.split(separator: "\n").last.map { String($0.split(separator: ";")[0]) })
        let step = FailureRun.midEpoch(2)
        var state = ""
        func jobState() -> String {
            let shown = (try? script("/usr/bin/scontrol", ["show", "job", job], environment: environment, timeout: 30).output) ?? ""
            return shown.range(of: "JobState=").map { String(shown[$0.upperBound...].prefix { !$0.isWhitespace }) } ?? "?"
        }
        waitUntil("step \(step) of job \(job): \(jobLog(lab))", timeout: 180) {
            state = jobState()
            return jobLog(lab).contains("step \(step) done") || ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].contains(state)
        }
        XCTAssertEqual(state, "RUNNING", "the job ended before step \(step): \(jobLog(lab))")
        XCTAssertNil(fileBytes(run.appendingPathComponent("model.safetensors")), "the run finished before the requeue")
        let requeued = try script("/usr/bin/scontrol", ["requeue", job], environment: environment, timeout: 30)
        XCTAssertEqual(requeued.status, 0, requeued.output)
        // The deadline only ends a job that Slurm never runs again.
        waitUntil("job \(job) to run again and end: \(jobLog(lab))", timeout: 300) {
            state = jobState()
            return ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL"].contains(state)
        }
        let log = jobLog(lab)
        XCTAssertEqual(state, "COMPLETED", log)
        XCTAssertTrue(log.contains("dptrain.sbatch: job \(job) continues \(run.path) from its checkpoint"), log)
        // Slurm's kill takes a moment to land, so the run may have gone on a few steps; it resumed, not restarted.
        let resumedStep = log.split(separator: "\n").first { $0.contains("resuming \(run.path) at epoch ") }
            .flatMap { line in line.range(of: ", step ").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) } }
        XCTAssertGreaterThan(resumedStep ?? 0, 0, "the requeued job did not resume from a checkpoint: \(log)")
        XCTAssertEqual(fileBytes(run.appendingPathComponent("model.safetensors")), reference, log)
    }
}
