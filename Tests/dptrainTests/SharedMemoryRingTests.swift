import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Ring members on one host pass their sums and weights through shared
/// memory under /dev/shm: the bytes stay train's for any worker count and
/// after a member dies mid-step, and no segment outlives a run, however it ends.
final class SharedMemoryRingTests: XCTestCase {
    private let folder = "/dev/shm/dptrain-\(geteuid())"

    /// Segment files of the given processes (ring-<pid>-<token>.seg or .tmp).
    private func segments(of pids: [Int32]) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { name in pids.contains { name.hasPrefix("ring-\($0)-") } }
    }

    func testNeighboursOnOneHostShareMemoryAndMatchTrain() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, command: "train"), out: trainOut)
        for shared in [true, false] {
            let out = try temporaryFolder()
            let endpoint = "tcp://127.0.0.1:\(freePort())"
            let coordinator = try launch(Fixture.smallRun(
                out: out, command: "coordinator",
                extra: ["--listen", endpoint, "--workers", "3", "--collective", "ring"] + (shared ? [] : ["--no-shared-memory"])))
            let workers = try (0..<3).map { _ in try launch(["worker", "--coordinator", endpoint, "--log-level", "info"]) }
            let result = try coordinator.wait(timeout: 300)
            XCTAssertEqual(result.status, 0, result.stderr)
            for worker in workers {
                let ended = try worker.wait(timeout: 30)
                XCTAssertEqual(ended.status, 0, ended.stderr)
                XCTAssertEqual(ended.stderr.contains("shared memory from the left and to the right"), shared,
                               "shared memory \(shared ? "not used" : "used with --no-shared-memory"): \(ended.stderr)")
            }
            XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference,
                           "ring of 3 \(shared ? "in shared memory" : "over sockets") differs from train")
            XCTAssertEqual(segments(of: workers.map(\.pid)), [], "segments left after a normal end")
        }
    }

    /// A ring over two hosts: two members share memory, the third has a host
    /// name of its own (a UTS namespace), so its links are TCP. The member
    /// that gets weights through shared memory and passes them on over TCP
    /// sends them as steps from the weights it kept before they arrived;
    /// the others pass on what came over TCP as it came. Train's bytes.
    func testARingOverTwoHostsMixingSharedMemoryAndSocketsMatchesTrain() throws {
        guard geteuid() == 0 else { throw XCTSkip("a UTS namespace needs root") }
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, command: "train"), out: trainOut)
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try launch(Fixture.smallRun(
            out: out, command: "coordinator", extra: ["--listen", endpoint, "--workers", "3", "--collective", "ring"]))
        let worker = ["worker", "--coordinator", endpoint, "--ring-listen", "tcp://127.0.0.1:*", "--log-level", "info"]
        var workers = try (0..<2).map { _ in try DPTrain.start(worker) }
        workers.append(try DPTrain.start(worker, launcher: [
            "/usr/bin/unshare", "--uts", "/bin/sh", "-c", "hostname dptrain-other-host && exec \"$0\" \"$@\""]))
        defer { for running in workers + [coordinator] where isAlive(running.pid) { running.signal(SIGKILL) } }
        let result = try coordinator.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        var logs: [String] = []
        for running in workers {
            let ended = try running.wait(timeout: 30)
            XCTAssertEqual(ended.status, 0, ended.stderr)
            logs.append(ended.stderr)
        }
        // One link in shared memory: one member shares to the right, one from the left; the other host's member neither.
        XCTAssertEqual(logs.filter { $0.contains("shared memory to the right") }.count, 1, logs.joined(separator: "\n---\n"))
        XCTAssertEqual(logs.filter { $0.contains("shared memory from the left") }.count, 1, logs.joined(separator: "\n---\n"))
        XCTAssertFalse(logs[2].contains("shared memory"), logs[2])
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference,
                       "a ring mixing shared memory and TCP differs from train")
    }

    /// Five to eight members: more links than cores, members without
    /// shards (batch 100 makes 4 micro-shards), every chunk still whole.
    func testFiveToEightMembersMatchTrain() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, epochs: 1, command: "train"), out: trainOut)
        for workers in 5...8 {
            let out = try temporaryFolder()
            let extra = ["--workers", String(workers), "--collective", "ring"]
            XCTAssertEqual(try modelBytes(Fixture.smallRun(out: out, epochs: 1, command: "simulate", extra: extra), out: out), reference,
                           "ring of \(workers) in shared memory differs from train")
        }
    }

    /// A member SIGKILLed mid-step while the others wait on the shared
    /// memory: the survivors notice, a new ring forms with fresh segments,
    /// the model is the undisturbed one, and the dead member's segment is gone.
    func testAMemberKilledMidStepLeavesTheModelAndNoSegment() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let simulate = try launch(FailureRun.arguments(
            "simulate", out: out, extra: FailureRun.stepLog + ["--workers", "3", "--collective", "ring", "--peer-timeout-ms", "1000"]))
        let workers = joinedWorkers(of: simulate, count: 3)
        guard waitForStep(FailureRun.midEpoch(2), of: simulate) else { return }
        killHard(workers[2])
        let result = try simulate.wait(timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        try assertFinished(out, matches: reference, "ring member killed in shared memory")
        XCTAssertTrue(result.stderr.contains("broke"), "the broken ring was not reported: \(result.stderr)")
        XCTAssertEqual(segments(of: workers + [simulate.pid]), [])
    }

    /// SIGINT and SIGKILL of the coordinator mid-run: no segment of the run
    /// is left (each inbox's file goes once its writer has mapped it).
    func testNoSegmentOutlivesAnInterruptedOrKilledCoordinator() throws {
        for signal in [SIGINT, SIGKILL] {
            let out = try temporaryFolder()
            let simulate = try launch(FailureRun.arguments(
                "simulate", out: out, extra: FailureRun.stepLog + ["--workers", "3", "--collective", "ring"]))
            let workers = joinedWorkers(of: simulate, count: 3)
            guard waitForStep(FailureRun.midEpoch(1), of: simulate) else { return }
            kill(simulate.pid, signal)
            _ = try simulate.wait(timeout: 60)
            XCTAssertEqual(segments(of: workers + [simulate.pid]), [], "segments left after signal \(signal)")
            for worker in workers where isAlive(worker) { killHard(worker) }
        }
    }

    /// A segment left by a process that died before its neighbour mapped it
    /// (SIGKILL at the very start of a ring) is removed by the next run.
    func testTheNextRunRemovesAStaleSegment() throws {
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        mkdir(folder, 0o700)
        let stale = "\(folder)/ring-\(gone.processIdentifier)-5eed.seg"
        XCTAssertTrue(FileManager.default.createFile(atPath: stale, contents: Data(count: 4096), attributes: [.posixPermissions: 0o600]))
        let out = try temporaryFolder()
        _ = try modelBytes(Fixture.smallRun(out: out, epochs: 1, command: "simulate", extra: ["--workers", "2", "--collective", "ring"]), out: out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "the stale segment of a dead process is still there")
    }
}
