import Collective
import Foundation
import Wire
import XCTest

/// A ring member's inbox is a PULL socket that anyone who can reach it may
/// connect to; without CURVE nothing in the handshake says who sends. Each
/// chunk carries its link's token from the ring setup, so a chunk from
/// anyone but the left neighbour is dropped and logged.
final class RingLinkTests: XCTestCase {
    /// An outsider who knows the ring's endpoints, generation and shapes
    /// (all readable in plaintext logs or traffic, except the tokens) sends
    /// well-formed reduce-scatter chunks of ones for the coming steps to
    /// both members. Before the tokens, a member kept them ahead and added
    /// the one due to its sum: the model changed.
    func testChunksFromAnOutsiderAreDroppedAndTheModelIsTrains() throws {
        let epochs = 2
        let reference = try FailureRun.reference(epochs: epochs)
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let inboxes = ["tcp://127.0.0.1:\(freePort())", "tcp://127.0.0.1:\(freePort())"]
        let coordinator = try launch(FailureRun.arguments(
            "coordinator", out: out, epochs: epochs,
            extra: ["--listen", endpoint, "--workers", "2", "--collective", "ring"] + FailureRun.stepLog))
        let workers = try inboxes.map {
            try launch(["worker", "--coordinator", endpoint, "--ring-listen", $0] + FailureRun.cluster)
        }
        guard waitForStep(10, of: coordinator) else { return }

        let intruder = try ZMQSocket(context: .shared(), kind: .push)
        defer { intruder.close() }
        for inbox in inboxes { try intruder.connect(inbox) }
        let parameterCount = 784 * 64 + 64 + 64 * 10 + 10
        let partition = RingPartition(parameterCount: parameterCount, size: 2)
        XCTAssertEqual(partition.pieces, 1)
        // Two inboxes, each taking every other message; every chunk a member may be due.
        for step in 40..<43 {
            for chunk in 0..<2 {
                let count = partition.chunk(chunk).count
                let ones = try ZMQMessage(copying: [Int64](repeating: 1, count: count).withUnsafeBytes { Array($0) })
                let message = WireMessage.ringChunk(RingChunk(
                    generation: 1, step: UInt64(step), phase: .reduceScatter, round: 0, chunk: UInt32(chunk), nonFinite: false,
                    encoding: .rawInt64, valueCount: UInt32(count), link: 0, values: ones))
                for _ in inboxes { try intruder.send(message.encode()) }
            }
        }

        let result = try coordinator.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        for worker in workers { _ = try worker.wait(timeout: 30) }
        XCTAssertTrue(result.stderr.contains("ring generation 1:"), result.stderr)
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference,
                       "chunks from an outsider changed the model")
        let logs = workers.map(\.stderr).joined(separator: "\n")
        XCTAssertTrue(logs.contains("wrong link token: not from the left neighbour"), logs)
    }
}
