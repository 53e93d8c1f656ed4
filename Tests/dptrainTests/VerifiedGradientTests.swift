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

    private func assertTheLieChangesTheModel(collective: String) throws {
        let reference = try trainReference()
        let (result, _) = try runWithLiar(extra: ["--collective", collective])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertNotEqual(fileBytes(result.out.appendingPathComponent("model.safetensors")),
                          fileBytes(reference.appendingPathComponent("model.safetensors")),
                          "the lie did not change the model: the test would show nothing")
    }

    private func assertTheLiarIsCaught(collective: String) throws {
        let reference = try trainReference()
        let (result, liar) = try runWithLiar(extra: ["--collective", collective, "--verify-fraction", "1"])
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

    private func runWithLiar(extra: [String]) throws -> (result: (status: Int32, stderr: String, out: URL), liar: DPTrain.Result) {
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(Fixture.smallRun(
            out: out, epochs: 1, command: "coordinator",
            extra: ["--listen", endpoint, "--workers", "2", "--heartbeat-ms", "100", "--peer-timeout-ms", "3000"] + extra))
        let honest = try DPTrain.start(["worker", "--coordinator", endpoint])
        let liar = try DPTrain.start(["worker", "--coordinator", endpoint, "--lie-offset", offset])
        let result = try coordinator.wait(timeout: 300)
        _ = try honest.wait(timeout: 30)
        let liarResult = try liar.wait(timeout: 30)
        return ((result.status, result.stderr, out), liarResult)
    }
}
