import Foundation
import XCTest

/// Verified gradients: a worker that adds a small finite offset to every
/// gradient it sends (`worker --lie-offset`, a hidden test hook; in the ring
/// to its sum and to every shard it digests) passes every check a gradient
/// gets on arrival, so without verification it changes the model; with
/// `--verify-fraction 1` its first lie is caught by a second computation on
/// the honest worker and a third on the coordinator, it is expelled and
/// denied, and the model is train's. Central and ring.
final class VerifiedGradientTests: XCTestCase {
    private let offset = String(1 << 24)

    func testWithoutVerificationALyingWorkerChangesTheModel() throws {
        try assertTheLieChangesTheModel(collective: "central")
    }

    func testWithVerificationALyingWorkerIsCaughtDeniedAndTheModelIsTrains() throws {
        try assertTheLiarIsCaught(collective: "central")
    }

    func testWithoutVerificationALyingRingMemberChangesTheModel() throws {
        try assertTheLieChangesTheModel(collective: "ring")
    }

    func testWithVerificationALyingRingMemberIsCaughtDeniedAndTheModelIsTrains() throws {
        try assertTheLiarIsCaught(collective: "ring")
    }

    /// At 0.02 the first sampled shard comes at step 41 (seed 7): the ring's
    /// state then holds 41 steps of unsampled lies, on which the honest member
    /// computed too, so neither digest matches the coordinator's computation
    /// from its log. Nobody is judged on that state: the step is taken again
    /// from the log's, where the liar alone disagrees. The honest member
    /// stays, and the lies before (no snapshot yet) are gone.
    func testAtALowFractionALyingRingMemberCaughtLaterLeavesTheHonestOneAndTrainsModel() throws {
        let reference = try trainReference()
        let (result, liar, honest) = try runWithLiar(extra: ["--collective", "ring", "--verify-fraction", "0.02"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("of step 41 has different digests"), result.stderr)
        XCTAssertTrue(result.stderr.contains("is not the log's"), result.stderr)
        XCTAssertTrue(result.stderr.contains("computed a third time"), result.stderr)
        XCTAssertEqual(liar.status, 2, "a denied worker exits 2: \(liar.stderr)")
        XCTAssertEqual(honest.status, 0, honest.stderr)
        XCTAssertFalse(honest.stderr.contains("denied"), honest.stderr)
        XCTAssertEqual(fileBytes(result.out.appendingPathComponent("model.safetensors")),
                       fileBytes(reference.appendingPathComponent("model.safetensors")))
    }

    private func assertTheLieChangesTheModel(collective: String) throws {
        let reference = try trainReference()
        let (result, _, _) = try runWithLiar(extra: ["--collective", collective])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertNotEqual(fileBytes(result.out.appendingPathComponent("model.safetensors")),
                          fileBytes(reference.appendingPathComponent("model.safetensors")),
                          "the lie did not change the model: the test would show nothing")
    }

    private func assertTheLiarIsCaught(collective: String) throws {
        let reference = try trainReference()
        let (result, liar, _) = try runWithLiar(extra: ["--collective", collective, "--verify-fraction", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(fileBytes(result.out.appendingPathComponent("model.safetensors")),
                       fileBytes(reference.appendingPathComponent("model.safetensors")))
        XCTAssertTrue(result.stderr.contains("computed a third time"), result.stderr)
        XCTAssertTrue(result.stderr.contains("denied for the rest of the run"), result.stderr)
        XCTAssertEqual(liar.status, 2, "a denied worker exits 2: \(liar.stderr)")
        XCTAssertTrue(liar.stderr.contains("denied"), liar.stderr)
    }

    private func trainReference() throws -> URL {
        let reference = try temporaryFolder()
        XCTAssertEqual(try DPTrain.run(Fixture.smallRun(out: reference, epochs: 1, command: "train")).status, 0)
        return reference
    }

    private func runWithLiar(
        extra: [String]
    ) throws -> (result: (status: Int32, stderr: String, out: URL), liar: DPTrain.Result, honest: DPTrain.Result) {
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(Fixture.smallRun(
            out: out, epochs: 1, command: "coordinator",
            extra: ["--listen", endpoint, "--workers", "2", "--heartbeat-ms", "100", "--peer-timeout-ms", "3000"] + extra))
        let honest = try DPTrain.start(["worker", "--coordinator", endpoint])
        let liar = try DPTrain.start(["worker", "--coordinator", endpoint, "--lie-offset", offset])
        let result = try coordinator.wait(timeout: 300)
        let honestResult = try honest.wait(timeout: 30)
        let liarResult = try liar.wait(timeout: 30)
        return ((result.status, result.stderr, out), liarResult, honestResult)
    }
}
