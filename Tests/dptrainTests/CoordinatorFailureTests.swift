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
        let simulate = try launch(FailureRun.arguments("simulate", out: out, extra: flags))
        let workers = joinedWorkers(of: simulate, count: 3)
        waitForEpochs(3, of: simulate)
        usleep(20_000)
        let checkpoint = out.appendingPathComponent("checkpoint.safetensors")
        XCTAssertNotNil(fileBytes(checkpoint), "no checkpoint after 3 epochs with --checkpoint-every 10")
        killHard(simulate.pid)
        _ = try simulate.wait(timeout: 10)
        waitUntil("the workers of a SIGKILLed simulate to exit", timeout: 10) { workers.filter(isAlive).isEmpty }

        let resumed = try DPTrain.run(FailureRun.arguments("simulate", out: out, extra: flags + ["--resume", out.path]), timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertFinished(out, matches: reference, "SIGKILLed simulate, resumed")
        let printed = resumed.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch") }.count
        XCTAssertLessThan(printed, FailureRun.epochs, "the resumed run started over instead of resuming")
    }

    func testTerminatedSimulationExits143WithACheckpointAndResumesWithOtherWorkerCount() throws {
        // The worker count is not part of the result, so a resume may use another.
        try assertTerminatedRunResumes(
            extra: [], workers: 3, resume: ["--workers", "2"], "SIGTERMed simulate, resumed with 2 workers")
    }

    func testInterruptedTrainExits130AndResumesToTheSameBytes() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let train = try launch(FailureRun.arguments("train", out: out, extra: ["--checkpoint-every", "7"]))
        waitForEpochs(2, of: train)
        train.signal(SIGINT)
        let result = try train.wait(timeout: 60)
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssertNotNil(fileBytes(out.appendingPathComponent("checkpoint.safetensors")), "SIGINT left no checkpoint")

        let resumed = try DPTrain.run(
            FailureRun.arguments("train", out: out, extra: ["--checkpoint-every", "7", "--resume", out.path]), timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertFinished(out, matches: reference, "SIGINTed train, resumed")
    }
}
