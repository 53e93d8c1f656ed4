import Foundation
import Wire
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A raw ZeroMQ peer that talks nonsense to a training coordinator: every
/// bad, foreign, stale or misaddressed message is logged, counted and
/// dropped, and the model comes out as if the stranger had never called.
final class GarbageClientTests: XCTestCase {
    private let parameterCount = 784 * 64 + 64 + 64 * 10 + 10
    private let shardSize = 32

    func testGarbageMessagesAreRejectedAndDoNotChangeTheModel() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let simulate = try launch(FailureRun.arguments("simulate", out: out, extra: ["--workers", "2"]))
        _ = joinedWorkers(of: simulate, count: 2)
        let endpoint = try XCTUnwrap(simulate.endpoint, "no endpoint in: \(simulate.stderr)")
        waitForEpochs(1, of: simulate)

        let socket = try ZMQSocket(context: .shared(), kind: .dealer)
        defer { socket.close() }
        try socket.connect(endpoint)
        var sent = 0
        func send(_ frames: [ZMQMessage]) throws {
            try socket.send(frames)
            sent += 1
        }

        // Before saying hello: noise, a foreign version, a cut-off gradient, a gradient from nowhere.
        var noise = (0..<64).map { _ in UInt8.random(in: 0...255) }
        noise[0] = 0xFF  // never "DPTR" by chance
        try send([ZMQMessage(copying: noise)])
        let foreign = try WireMessage.gradient(gradient(step: 0, shards: [0], samples: 32)).encode()
        var foreignHeader = foreign[0].bytes
        foreignHeader[4] = 9  // version 9, little-endian UInt16 after the magic
        foreignHeader[5] = 0
        try send([ZMQMessage(copying: foreignHeader), foreign[1]])
        try send(WireMessage.gradient(gradient(step: 0, shards: [0], samples: 32, values: parameterCount - 1)).encode())
        let whole = try WireMessage.gradient(gradient(step: 0, shards: [0], samples: 32)).encode()
        let header = whole[0].bytes
        try send([ZMQMessage(copying: Array(header.prefix(header.count - 3))), whole[1]])
        try send(WireMessage.gradient(gradient(step: 1, shards: [1], samples: 32)).encode())

        // Join, take one piece of work, and answer it with nonsense only.
        try socket.send(Hello(pid: UInt32(getpid()), workerName: "garbage-client").encode())
        let work = try XCTUnwrap(try receiveWork(on: socket), "the coordinator never sent the garbage client work")
        let held = work.shards.map(\.shardID)
        // The client's own shards, but for a past and for a future step (the run has 1,500 steps).
        // (A second hello is no garbage: the member starts over, see WorkerRejoinTests.)
        try send(WireMessage.gradient(gradient(step: work.step &- 1, shards: held, samples: work.sampleCount)).encode())
        try send(WireMessage.gradient(gradient(step: work.step + 100_000, shards: held, samples: work.sampleCount)).encode())
        // Last, someone else's shard: a member that claims it is expelled, and its own shards go to the real workers.
        let notHeld = try XCTUnwrap((0..<UInt32(4)).first { !held.contains($0) }, "the client holds every shard")
        let notHeldSamples = notHeld < 3 ? shardSize : 100 - 3 * shardSize
        try send(WireMessage.gradient(gradient(step: work.step, shards: [notHeld], samples: notHeldSamples)).encode())

        let result = try simulate.wait(timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        try assertFinished(out, matches: reference, "garbage client")
        let rejections = result.stderr.split(separator: "\n").filter { $0.hasPrefix("coordinator: rejected message #") }
        XCTAssertGreaterThanOrEqual(rejections.count, sent, "\(sent) garbage messages sent; stderr: \(result.stderr)")
        let total = try XCTUnwrap(rejectedInAll(result.stderr), "no total of rejected messages in: \(result.stderr)")
        XCTAssertGreaterThanOrEqual(total, sent, result.stderr)
    }

    /// A gradient of zeros: harmless if it were ever counted, except that it never may be.
    private func gradient(step: UInt64, shards: [UInt32], samples: Int, values: Int? = nil) throws -> Gradient {
        Gradient(step: step, lossSumFixedPoint: 0, correct: 0, sampleCount: UInt32(samples),
                 computeNanoseconds: 1, shardIDs: ShardIDs(shards), gradient: try ZMQMessage(size: 8 * (values ?? parameterCount)))
    }

    /// Reads until the welcome and then the first work message arrive.
    private func receiveWork(on socket: ZMQSocket) throws -> Work? {
        var limits = DecodingLimits.beforeWelcome
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard let frames = try socket.receive(timeoutMilliseconds: 100) else { continue }
            switch try? WireMessage.decode(frames, limits: limits) {
            case .welcome(let welcome)?:
                XCTAssertEqual(welcome.layerSizes, [784, 64, 10])
                limits = DecodingLimits(parameterCount: parameterCount, inputSize: 784,
                                        shardSize: Int(welcome.shardSize), maxShards: 2048)
            case .work(let work)?:
                return work
            default:
                continue  // the refusal of the foreign version, heartbeats
            }
        }
        return nil
    }

    /// N from `coordinator: N bad or stale messages rejected in all`.
    private func rejectedInAll(_ stderr: String) -> Int? {
        stderr.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("coordinator: "), line.hasSuffix("rejected in all") else { return nil }
            return Int(line.dropFirst("coordinator: ".count).prefix { $0.isNumber })
        }.last
    }
}
