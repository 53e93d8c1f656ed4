import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The coordinator itself stopped mid-run, by SIGKILL (no warning) or by
/// SIGTERM/SIGINT (a checkpoint on the way out): `--resume` finishes with the
/// model an undisturbed run gives.
final class CoordinatorFailureTests: XCTestCase {
    func testKilledSimulationResumesFromItsLastCheckpoint() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let flags = ["--workers", "3", "--checkpoint-every", "10"]
        let simulate = try launch(FailureRun.arguments("simulate", out: out, extra: FailureRun.stepLog + flags))
        let workers = joinedWorkers(of: simulate, count: 3)
        // In the third epoch, past the mid-epoch checkpoint before step 130.
        guard waitForStep(133, of: simulate) else { return }
        let checkpoint = out.appendingPathComponent("checkpoint.safetensors")
        XCTAssertNotNil(fileBytes(checkpoint), "no checkpoint by step 133 with --checkpoint-every 10")
        killHard(simulate.pid)
        let killed = try simulate.wait(timeout: 10)
        waitUntilGone(workers, "the workers of a SIGKILLed simulate")

        let resumed = try DPTrain.run(
            FailureRun.arguments("simulate", out: out, extra: FailureRun.stepLog + flags + ["--resume", out.path]), timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertFinished(out, matches: reference, "SIGKILLed simulate, resumed")
        // The last checkpoint is before the step after the last one done, at a
        // multiple of 10; one earlier if the kill cut that one's writing short.
        let next = try XCTUnwrap(killed.stepsDone.last, killed.stderr) + 1
        let resumedAt = try XCTUnwrap(resumed.stepsDone.first, resumed.stderr)
        XCTAssertTrue(resumedAt % 10 == 0 && (next - 10...next).contains(resumedAt),
                      "killed with step \(next) next, resumed at step \(resumedAt): not from the last checkpoint")
    }

    func testTerminatedSimulationExits143WithACheckpointAndResumesWithOtherWorkerCount() throws {
        // The worker count is not part of the result, so a resume may use another.
        try assertTerminatedRunResumes(
            extra: [], workers: 3, resume: ["--workers", "2"], "SIGTERMed simulate, resumed with 2 workers")
    }

    func testInterruptedTrainExits130AndResumesToTheSameBytes() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let train = try launch(FailureRun.arguments("train", out: out, extra: FailureRun.stepLog + ["--checkpoint-every", "7"]))
        guard waitForStep(FailureRun.midEpoch(2), of: train) else { return }
        train.signal(SIGINT)
        let result = try train.wait(timeout: 60)
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssertNotNil(fileBytes(out.appendingPathComponent("checkpoint.safetensors")), "SIGINT left no checkpoint")

        let resumed = try DPTrain.run(FailureRun.arguments(
            "train", out: out, extra: FailureRun.stepLog + ["--checkpoint-every", "7", "--resume", out.path]), timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        assertResumed(resumed, after: result, "SIGINTed train")
        try assertFinished(out, matches: reference, "SIGINTed train, resumed")
    }
}
