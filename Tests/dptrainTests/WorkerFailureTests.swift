import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Workers that die mid-run: their micro-shards go to the others within the
/// same step, so the model is the one an undisturbed run gives, byte for byte.
final class WorkerFailureTests: XCTestCase {
    private enum KillPoint: String, CaseIterable {
        case afterJoining, midRun, late

        /// The step to see done before the kill: none (right after the
        /// joins), the middle of the second epoch, the middle of the 23rd.
        var step: Int? {
            switch self {
            case .afterJoining: return nil
            case .midRun: return FailureRun.midEpoch(2)
            case .late: return FailureRun.midEpoch(FailureRun.epochs * 3 / 4 + 1)
            }
        }
    }

    func testAWorkerKilledAtAnyPointLeavesTheModelUnchanged() throws {
        let reference = try FailureRun.reference()
        for point in KillPoint.allCases {
            let out = try temporaryFolder()
            let simulate = try launch(FailureRun.arguments("simulate", out: out, extra: FailureRun.stepLog + ["--workers", "3"]))
            let workers = joinedWorkers(of: simulate, count: 3)
            if let step = point.step, !waitForStep(step, of: simulate) { continue }
            XCTAssertTrue(simulate.process.isRunning, "\(point): simulate ended before the kill")
            let victim = try XCTUnwrap(workers.last, "\(point): no worker to kill")
            killHard(victim)

            let result = try simulate.wait(timeout: 120)
            XCTAssertEqual(result.status, 0, "\(point): \(result.stderr)")
            try assertFinished(out, matches: reference, "kill \(point)")
            // The loss was noticed: the last epoch ran on the two survivors.
            XCTAssertEqual(try metrics(in: out).last?["workers"] as? Int, 2, "\(point): \(result.stderr)")
        }
    }

    func testReplacementWorkersJoinMidRunAndTheModelIsUnchanged() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let simulate = try launch(FailureRun.arguments("simulate", out: out, extra: FailureRun.stepLog + ["--workers", "3"]))
        let workers = joinedWorkers(of: simulate, count: 3)
        let endpoint = try XCTUnwrap(simulate.endpoint, "no endpoint in: \(simulate.stderr)")

        // Kill a worker and start a replacement; later kill the replacement and replace it too.
        // Replacements are started without timing flags: they take the run's from the welcome.
        guard waitForStep(FailureRun.midEpoch(2), of: simulate) else { return }
        killHard(workers[0])
        let first = try launch(["worker", "--coordinator", endpoint])
        waitUntil("the first replacement to join; its stderr: \(first.stderr)") { first.stderr.contains("joined") }
        guard waitForStep(FailureRun.midEpoch(FailureRun.epochs / 2), of: simulate) else { return }
        killHard(first.pid)
        let second = try launch(["worker", "--coordinator", endpoint])

        let result = try simulate.wait(timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        let secondResult = try second.wait(timeout: 30)
        XCTAssertEqual(secondResult.status, 0, "the replacement did not stop cleanly: \(secondResult.stderr)")
        XCTAssertTrue(secondResult.stderr.contains("joined"), "the replacement never joined: \(secondResult.stderr)")
        try assertFinished(out, matches: reference, "kills with replacements")
        // Two originals and the second replacement trained the last epoch.
        XCTAssertEqual(try metrics(in: out).last?["workers"] as? Int, 3, result.stderr)
    }

    /// Below --min-workers the coordinator waits --wait-timeout seconds, then
    /// checkpoints and exits 1 saying how to resume; resuming finishes the run.
    func testTooFewWorkersCheckpointAndResumeFinishesTheRun() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let flags = ["--workers", "2", "--min-workers", "2", "--wait-timeout", "3"]
        let simulate = try launch(FailureRun.arguments("simulate", out: out, extra: FailureRun.stepLog + flags))
        let workers = joinedWorkers(of: simulate, count: 2)
        guard waitForStep(FailureRun.midEpoch(2), of: simulate) else { return }
        let killed = Date()
        killHard(workers[0])

        let result = try simulate.wait(timeout: 60)
        let waited = Date().timeIntervalSince(killed)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("--resume"), "no resume hint in: \(result.stderr)")
        // Load can only lengthen the wait, so the lower bound is safe; that the
        // configured timeout (not the 60 s default) was the one honoured is
        // read from the coordinator's own account rather than from a clock.
        XCTAssertGreaterThanOrEqual(waited, 3, "exited before --wait-timeout had passed")
        XCTAssertTrue(result.stderr.contains("were live for 3 s"), "not the --wait-timeout given: \(result.stderr)")
        XCTAssertNotNil(fileBytes(out.appendingPathComponent("checkpoint.safetensors")), "no checkpoint written")
        waitUntilGone(workers, "the workers of the stopped simulate")

        let resumed = try DPTrain.run(
            FailureRun.arguments("simulate", out: out, extra: FailureRun.stepLog + flags + ["--resume", out.path]), timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        assertResumed(resumed, after: result, "resume after too few workers")
        try assertFinished(out, matches: reference, "resume after too few workers")
    }
}
