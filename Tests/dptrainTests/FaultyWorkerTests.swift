import Collective
import Foundation
import Wire
import XCTest

/// A worker that lies: it answers with non-finite gradients, then with a
/// gradient of the wrong size. The coordinator must reject every such reply,
/// say who sent it, have the shards computed by an honest worker, and end
/// with exactly the model an undisturbed run writes.
final class FaultyWorkerTests: XCTestCase {
    func testNonFiniteAndMisshapenGradientsAreRejectedAndTheResultIsUnchanged() throws {
        let reference = try temporaryFolder()
        XCTAssertEqual(try DPTrain.run(Fixture.smallRun(out: reference, command: "train")).status, 0)

        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(Fixture.smallRun(
            out: out, command: "coordinator",
            extra: ["--listen", endpoint, "--workers", "2", "--heartbeat-ms", "100", "--peer-timeout-ms", "3000"]))
        let honest = try DPTrain.start(["worker", "--coordinator", endpoint])

        let liar = try ZMQSocket(context: .shared(), kind: .dealer)
        defer { liar.close() }
        try liar.connect(endpoint)
        try liar.send(Hello(pid: 1, workerName: "liar").encode())
        var limits = DecodingLimits.beforeWelcome
        var lies = 0, refused = false
        let deadline = Date().addingTimeInterval(60)
        while !refused, Date() < deadline {
            guard let frames = try liar.receive(timeoutMilliseconds: 100) else { continue }
            switch try WireMessage.decode(frames, limits: limits) {
            case .welcome(let welcome):
                limits = try DecodingLimits(welcome: welcome)
            case .work(let work):
                lies += 1
                // Three non-finite answers (the sentinel a worker sends for NaN), then a wrong size.
                let parameterCount = try XCTUnwrap(limits.parameterCount)
                let size = lies <= 3 ? parameterCount * MemoryLayout<Int64>.size : 16
                let gradient = try ZMQMessage(copying: [UInt8](repeating: 0, count: size))
                let reply = Gradient(
                    step: work.step, lossSumFixedPoint: FixedPoint.nonFiniteLoss,
                    correct: 0, sampleCount: UInt32(work.sampleCount), computeNanoseconds: 0,
                    shardIDs: ShardIDs(of: work.shards), gradient: gradient)
                try liar.send(WireMessage.gradient(reply).encode())
            case .refuse:
                refused = true
            default:
                continue
            }
        }
        XCTAssertTrue(refused, "the coordinator never expelled a worker sending a misshapen gradient")
        XCTAssertEqual(lies, 4)

        let result = try coordinator.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        _ = try honest.wait(timeout: 30)
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")),
                       fileBytes(reference.appendingPathComponent("model.safetensors")))
        XCTAssertTrue(result.stderr.contains("(liar)"), "the log does not name the liar: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("non-finite gradient"), result.stderr)
        XCTAssertTrue(result.stderr.contains("expected"), "the misshapen gradient's rejection is not explained: \(result.stderr)")
    }
}
