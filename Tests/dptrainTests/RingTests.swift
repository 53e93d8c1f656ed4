import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The ring collective: workers reduce among themselves over their own
/// ZeroMQ sockets, and the bytes are still train's, for any worker count,
/// when members die mid-step, and across a checkpoint and resume.
final class RingTests: XCTestCase {
    func testRingWithOneToFourWorkersMatchesTrainByteForByte() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, command: "train"), out: trainOut)
        for workers in 1...4 {
            let out = try temporaryFolder()
            let extra = ["--workers", String(workers), "--collective", "ring"]
            let bytes = try modelBytes(Fixture.smallRun(out: out, command: "simulate", extra: extra), out: out)
            XCTAssertEqual(bytes, reference, "simulate --collective ring --workers \(workers) differs from train")
            XCTAssertEqual(try metrics(in: out).last?["workers"] as? Int, workers)
        }
    }

    /// A model big enough that each chunk (with 2 workers) travels in several pieces, each
    /// passed on (and updated) while the next is on the wire.
    func testChunksInSeveralPiecesMatchTrain() throws {
        func run(_ command: String, _ out: URL, _ extra: [String] = []) throws -> Data {
            try modelBytes([command] + extra + [
                "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,512,256,10",
                "--epochs", "1", "--batch-size", "128", "--lr", "0.05", "--momentum", "0.9", "--seed", "3",
                "--out", out.path,
            ], out: out)
        }
        let reference = try run("train", try temporaryFolder())
        for workers in [2, 3] {
            let bytes = try run("simulate", try temporaryFolder(), ["--workers", String(workers), "--collective", "ring"])
            XCTAssertEqual(bytes, reference, "ring of \(workers) over 784-512-256-10 differs from train")
        }
    }

    /// More members than a step has micro-shards: the idle ones add zeros and still update their slices.
    func testMembersWithoutShardsStillTakeTheirPart() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, batchSize: 40, command: "train"), out: trainOut)
        let out = try temporaryFolder()
        let extra = ["--workers", "3", "--collective", "ring"]
        XCTAssertEqual(try modelBytes(Fixture.smallRun(out: out, batchSize: 40, command: "simulate", extra: extra), out: out), reference)
    }

    func testRingCoordinatorWithSeparateWorkersOverTCPMatchesTrain() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, command: "train"), out: trainOut)
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try launch(Fixture.smallRun(
            out: out, command: "coordinator", extra: ["--listen", endpoint, "--workers", "2", "--collective", "ring"]))
        let workers = try (0..<2).map { _ in try launch(["worker", "--coordinator", endpoint]) }
        let result = try coordinator.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        for worker in workers {
            let ended = try worker.wait(timeout: 30)
            XCTAssertEqual(ended.status, 0, "a worker did not stop cleanly: \(ended.stderr)")
            // Ring traffic went worker to worker over loopback TCP, not through the coordinator.
            XCTAssertTrue(ended.stderr.contains("sends to tcp://127.0.0.1:"), ended.stderr)
        }
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference)
    }

    /// A member SIGKILLed mid-run breaks the ring; the coordinator forms a
    /// new one from the survivors, hands out its snapshot, repeats the steps
    /// since, and the model is the undisturbed one.
    func testAKilledMemberBreaksTheRingAndTheRunGoesOnUnchanged() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let simulate = try launch(FailureRun.arguments(
            "simulate", out: out, extra: FailureRun.stepLog + ["--workers", "3", "--collective", "ring"]))
        let workers = joinedWorkers(of: simulate, count: 3)
        guard waitForStep(FailureRun.midEpoch(3), of: simulate) else { return }
        killHard(workers[1])

        let result = try simulate.wait(timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        try assertFinished(out, matches: reference, "ring member killed")
        XCTAssertTrue(result.stderr.contains("broke"), "the broken ring was not reported: \(result.stderr)")
        XCTAssertEqual(try metrics(in: out).last?["workers"] as? Int, 2, result.stderr)
    }

    func testAReplacementJoinsTheRingAndTheModelIsUnchanged() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let simulate = try launch(FailureRun.arguments(
            "simulate", out: out, extra: FailureRun.stepLog + ["--workers", "2", "--collective", "ring"]))
        let workers = joinedWorkers(of: simulate, count: 2)
        let endpoint = try XCTUnwrap(simulate.endpoint, "no endpoint in: \(simulate.stderr)")
        guard waitForStep(FailureRun.midEpoch(2), of: simulate) else { return }
        killHard(workers[0])
        // No timing flags: the replacement takes the run's from the welcome.
        let replacement = try launch(["worker", "--coordinator", endpoint])

        let result = try simulate.wait(timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        let ended = try replacement.wait(timeout: 30)
        XCTAssertEqual(ended.status, 0, "the replacement did not stop cleanly: \(ended.stderr)")
        XCTAssertTrue(ended.stderr.contains("ring generation"), "the replacement never joined a ring: \(ended.stderr)")
        try assertFinished(out, matches: reference, "ring member replaced")
        XCTAssertEqual(try metrics(in: out).last?["workers"] as? Int, 2, result.stderr)
    }

    /// SIGTERM mid-step: the coordinator repeats the interrupted steps on a
    /// fresh ring to get a consistent state, checkpoints, and exits 143; the
    /// checkpoint resumes under the other collective to the same bytes.
    func testTerminatedRingRunCheckpointsAndResumesUnderTheCentralCollective() throws {
        try assertTerminatedRunResumes(
            extra: ["--collective", "ring"], workers: 2, resume: ["--workers", "3"],
            "SIGTERMed ring simulate, resumed with the central collective")
    }
}
