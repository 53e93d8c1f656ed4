import Foundation
import XCTest

/// cluster/hosts/run.sh, the hosts-over-ssh launcher, with `SSH` set to a
/// shim that does what sshd does with a command (hands the joined words to
/// a shell) on this machine, for 127.0.0.1 only. Three ranks train to
/// `train`'s bytes; an interrupt stops every rank, rank 0 with a checkpoint
/// the run resumes from.
final class HostsLauncherTests: XCTestCase {
    private let script = DPTrain.repository.appendingPathComponent("cluster/hosts/run.sh")

    /// A folder with the shim and a hostfile naming 127.0.0.1 three times.
    private func lab() throws -> (shim: URL, hostfile: URL) {
        let folder = try temporaryFolder()
        let shim = folder.appendingPathComponent("ssh")
        try """
            #!/bin/sh
            # ssh HOST COMMAND...: like sshd, one shell runs the words joined by spaces.
            host=$1; shift
            [ "$host" = 127.0.0.1 ] || { echo "ssh shim: $host is not this machine" >&2; exit 255; }
            exec /bin/sh -c "$*"

            """.write(to: shim, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: shim.path)
        let hostfile = folder.appendingPathComponent("hosts")
        try "# rank 0 coordinates\n127.0.0.1\n127.0.0.1\n\n127.0.0.1\n".write(to: hostfile, atomically: true, encoding: .utf8)
        return (shim, hostfile)
    }

    /// run.sh started with output in a file; killed at the end of the test if still running.
    private func start(_ flags: [String], port: Int) throws -> (process: Process, log: URL) {
        let (shim, hostfile) = try lab()
        let log = try temporaryFolder().appendingPathComponent("log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = script
        process.arguments = [hostfile.path] + flags
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["SSH": shim.path, "DPTRAIN": DPTrain.executable.path, "MASTER_PORT": String(port)]) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        addTeardownBlock {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        return (process, log)
    }

    private func finish(_ process: Process, log: URL, timeout: Double = 300) -> (status: Int32, log: String) {
        waitUntil("cluster/hosts/run.sh to end", timeout: timeout) { !process.isRunning }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    private func flags(out: URL, epochs: Int, port: Int, extra: [String] = []) -> [String] {
        Array(FailureRun.arguments("launch", out: out, epochs: epochs, extra: extra).dropFirst()) + ["--listen", "tcp://127.0.0.1:\(port)"]
    }

    func testThreeHostsTrainToTrainsBytes() throws {
        let reference = try FailureRun.reference(epochs: 2)
        let out = try temporaryFolder().appendingPathComponent("run")
        let port = freePort()
        let run = try start(flags(out: out, epochs: 2, port: port), port: port)
        let (status, log) = finish(run.process, log: run.log)
        XCTAssertEqual(status, 0, log)
        for rank in 0..<3 { XCTAssertTrue(log.contains("launch: torchrun rank \(rank) of 3"), log) }
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference, log)
    }

    /// An interrupt in the middle of epoch 2: every rank ends (rank 0 with a
    /// checkpoint), nothing of the run is left running, and the run resumed
    /// through run.sh ends with `train`'s bytes.
    func testAnInterruptStopsEveryRankAndTheRunResumes() throws {
        let epochs = 4
        let reference = try FailureRun.reference(epochs: epochs)
        let out = try temporaryFolder().appendingPathComponent("run")
        var port = freePort()
        let run = try start(flags(out: out, epochs: epochs, port: port, extra: FailureRun.stepLog), port: port)
        let step = FailureRun.midEpoch(2)
        waitUntil("step \(step) of the hosts run") {
            let log = (try? String(contentsOf: run.log, encoding: .utf8)) ?? ""
            return log.contains("step \(step) done") || !run.process.isRunning
        }
        XCTAssertTrue(run.process.isRunning, "the run ended before step \(step)")
        kill(run.process.processIdentifier, SIGINT)
        let (status, log) = finish(run.process, log: run.log, timeout: 60)
        XCTAssertEqual(status, 130, log)
        XCTAssertTrue(processes(mentioning: out.path).isEmpty, "ranks still running after the interrupt: \(processes(mentioning: out.path)); \(log)")
        XCTAssertNotNil(fileBytes(out.appendingPathComponent("checkpoint.safetensors")), log)
        XCTAssertNil(fileBytes(out.appendingPathComponent("model.safetensors")), "the run finished before the interrupt landed")

        port = freePort()
        let resumed = try start(flags(out: out, epochs: epochs, port: port, extra: ["--resume", out.path]), port: port)
        let (resumedStatus, resumedLog) = finish(resumed.process, log: resumed.log)
        XCTAssertEqual(resumedStatus, 0, resumedLog)
        XCTAssertTrue(resumedLog.contains("resuming \(out.path) at epoch 2"), resumedLog)
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference, resumedLog)
    }

    /// Live processes whose command line mentions `text`.
    private func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard isAlive(pid), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
        }
    }
}
