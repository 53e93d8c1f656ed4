import Wire
import XCTest

/// Every kind goes out through a DEALER and is decoded from what the ROUTER received.
final class ProtocolRoundTripTests: XCTestCase {
    private var pair: RouterDealerPair!

    override func setUpWithError() throws {
        pair = try RouterDealerPair()
    }

    override func tearDown() {
        pair = nil
    }

    private func roundTrip(_ message: WireMessage, limits: DecodingLimits = welcomedLimits) throws -> WireMessage {
        try WireTests.roundTrip(message, through: pair, limits: limits)
    }

    func testHello() throws {
        let hello = Hello(pid: 4242, workerName: "node-7 ✓")
        guard case .hello(let decoded) = try roundTrip(.hello(hello), limits: .beforeWelcome) else {
            return XCTFail("not a hello")
        }
        XCTAssertEqual(decoded, hello)
    }

    func testWelcome() throws {
        for collective in CollectiveKind.allCases {
            var welcome = sampleWelcome
            welcome.collective = collective
            guard case .welcome(let decoded) = try roundTrip(.welcome(welcome), limits: .beforeWelcome) else {
                return XCTFail("not a welcome")
            }
            XCTAssertEqual(decoded, welcome)
            XCTAssertEqual(decoded.collective, collective)
            // The collective is the byte after the peer timeout: header, then four UInt32s.
            XCTAssertEqual(try encodedBytes(.welcome(welcome))[0][8 + 16], collective.rawValue)
        }
    }

    func testRefuse() throws {
        guard case .refuse(let reason) = try roundTrip(.refuse(reason: "version 9 is too new"), limits: .beforeWelcome)
        else { return XCTFail("not a refuse") }
        XCTAssertEqual(reason, "version 9 is too new")
    }

    func testWork() throws {
        let work = try makeWork()
        guard case .work(let decoded) = try roundTrip(.work(work)) else { return XCTFail("not work") }
        XCTAssertEqual(decoded.step, 12)
        XCTAssertEqual(decoded.shards, work.shards)
        XCTAssertEqual(decoded.sampleCount, 5)
        XCTAssertEqual(decoded.withWeights { Array($0) }, work.withWeights { Array($0) })
        XCTAssertEqual(decoded.withPixels { Array($0) }, work.pixels.bytes)
        XCTAssertEqual(decoded.withLabels { Array($0) }, [0, 1, 2, 3, 4])
    }

    /// Weights as steps from the weights of an earlier step, and as held: each
    /// round-trips with its base step and rebuilds exactly the weights meant.
    func testWorkWithWeightStepsOrHeldWeights() throws {
        let before: [Float] = [0, -0.0, 1, -1, 0.5, 3e-8, -2.5, .infinity, 7, 0.25]
        let after: [Float] = [1e-9, 0, 1.0001, -0.9999, 0.5, -3e-8, -2.5, .infinity, 7.5, 0.25]
        var buffer = [UInt8](repeating: 0, count: PackedInt64s.largestPackedSize(count: 10))
        let size = after.withUnsafeBufferPointer { new in
            before.withUnsafeBufferPointer { old in buffer.withUnsafeMutableBytes { PackedInt64s.packWeightSteps(new, from: old, into: $0) } }
        }
        let base = try makeWork()
        let stepped = Work(step: 12, shards: Array(base.shards), weights: try ZMQMessage(copying: Array(buffer.prefix(size))),
                           weightsEncoding: .steps, baseStep: 11, pixels: base.pixels, labels: base.labels)
        guard case .work(let decoded) = try roundTrip(.work(stepped)) else { return XCTFail("not work") }
        XCTAssertEqual(decoded.weightsEncoding, .steps)
        XCTAssertEqual(decoded.baseStep, 11)
        XCTAssertEqual(decoded.shards, base.shards)
        var weights = before
        weights.withUnsafeMutableBufferPointer { decoded.applySteps(onto: $0) }
        XCTAssertEqual(weights.map(\.bitPattern), after.map(\.bitPattern))

        let held = Work(step: 12, shards: Array(base.shards), weights: ZMQMessage(), weightsEncoding: .held, baseStep: 12,
                        pixels: base.pixels, labels: base.labels)
        guard case .work(let decodedHeld) = try roundTrip(.work(held)) else { return XCTFail("not work") }
        XCTAssertEqual(decodedHeld.weightsEncoding, .held)
        XCTAssertEqual(decodedHeld.weights.count, 0)
    }

    func testGradient() throws {
        let gradient = try makeGradient()
        guard case .gradient(let decoded) = try roundTrip(.gradient(gradient)) else { return XCTFail("not a gradient") }
        XCTAssertEqual(decoded.step, gradient.step)
        XCTAssertEqual(decoded.lossSumFixedPoint, gradient.lossSumFixedPoint)
        XCTAssertEqual(decoded.correct, gradient.correct)
        XCTAssertEqual(decoded.sampleCount, gradient.sampleCount)
        XCTAssertEqual(decoded.computeNanoseconds, gradient.computeNanoseconds)
        XCTAssertEqual(decoded.shardIDs, gradient.shardIDs)
        XCTAssertEqual(decoded.gradient.withUnsafeElements(of: Int64.self) { Array($0) }, (0..<10).map { Int64($0) * -3 })
    }

    func testHeartbeat() throws {
        guard case .heartbeat = try roundTrip(.heartbeat, limits: .beforeWelcome) else { return XCTFail("not a heartbeat") }
    }

    func testShutdown() throws {
        guard case .shutdown(let reason) = try roundTrip(.shutdown(reason: "SIGTERM")) else {
            return XCTFail("not a shutdown")
        }
        XCTAssertEqual(reason, "SIGTERM")
    }

    func testHeaderLayoutIsAsDocumented() throws {
        let header = try encodedBytes(.heartbeat)[0]
        XCTAssertEqual(header, [0x44, 0x50, 0x54, 0x52, UInt8(wireProtocolVersion), 0, 6, 0])
        let refuse = try encodedBytes(.refuse(reason: "no"))[0]
        XCTAssertEqual(refuse, [0x44, 0x50, 0x54, 0x52, UInt8(wireProtocolVersion), 0, 3, 0, 2, 0, 0x6e, 0x6f])
    }

    func testLargestFrameCoversEveryValidFrame() throws {
        XCTAssertGreaterThanOrEqual(DecodingLimits.beforeWelcome.largestFrameBytes, 4096)
        // A header of up to 4 shards: a ring done's 36-byte digests are the longest per shard.
        XCTAssertEqual(welcomedLimits.largestFrameBytes, 4096 + 4 * 36)
        let big = DecodingLimits(parameterCount: 1 << 20, inputSize: 784, shardSize: 32, maxShards: 64)
        XCTAssertEqual(big.largestFrameBytes, (8 << 20) + 65536, "a packed frame's 65,536 width bytes on top of 1 << 20 Int64s")
        let absurd = DecodingLimits(parameterCount: 1, inputSize: Int.max, shardSize: Int.max, maxShards: Int.max)
        XCTAssertEqual(absurd.largestFrameBytes, Int.max)
    }

    /// The biggest valid message of each ring kind decodes, and none of its
    /// frames is over the limit, whether the header, the parameters or the
    /// pixels set it.
    func testLargestFrameCoversTheRingKinds() throws {
        let manyParameters = DecodingLimits(parameterCount: 4096, inputSize: 16, shardSize: 8, maxShards: 4)
        let manyPixels = DecodingLimits(parameterCount: 10, inputSize: 784, shardSize: 32, maxShards: 64)
        for limits in [welcomedLimits, manyParameters, manyPixels] {
            let parameters = try XCTUnwrap(limits.parameterCount), inputSize = try XCTUnwrap(limits.inputSize)
            let samples = limits.maxShards * limits.shardSize
            let shards = (0..<limits.maxShards).map { Work.Shard(shardID: UInt32($0), sampleCount: UInt32(limits.shardSize)) }
            let values = (0..<parameters).map { Int64($0) * 1000 - 7 }
            let messages: [WireMessage] = [
                .ringSetup(RingSetup(
                    generation: 1, step: 1, rank: 0, size: UInt32(RingSetup.maxSize),
                    rightNeighbour: String(repeating: "x", count: WireLimits.maxStringBytes), momentum: 0.9, nesterov: false,
                    weightDecay: 0, ownedStart: 0, ownedCount: UInt64(parameters),
                    weights: try ZMQMessage(size: parameters * 4), velocity: try ZMQMessage(size: parameters * 4))),
                .ringWork(RingWork(
                    generation: 1, step: 1, learningRate: 0.1, batchSamples: UInt32(samples), shards: shards,
                    pixels: try ZMQMessage(size: samples * inputSize), labels: try ZMQMessage(size: samples))),
                .ringChunk(makeRingChunk(.rawInt64, valueCount: parameters, values: try int64Frame(values))),
                .ringChunk(makeRingChunk(.packedInt64, valueCount: parameters, values: try packedInt64Frame(values))),
                // Every block 64 bits wide: a packed frame's width bytes make it longer than a raw one.
                .ringChunk(makeRingChunk(
                    .packedInt64, valueCount: parameters, values: try packedInt64Frame(values.map { $0 | Int64.min }))),
                .ringChunk(makeRingChunk(.rawFloat, valueCount: parameters, values: try ZMQMessage(size: parameters * 4))),
                .stateSlice(StateSlice(
                    generation: 1, step: 1, start: 0, count: UInt64(parameters),
                    weights: try ZMQMessage(size: parameters * 4), velocity: try ZMQMessage(size: parameters * 4))),
            ]
            var biggest = 0
            for message in messages {
                let frames = try message.encode()
                XCTAssertNoThrow(try WireMessage.decode(frames, limits: limits), "\(message.kind) under \(limits)")
                let largest = frames.map(\.count).max() ?? 0
                XCTAssertLessThanOrEqual(largest, limits.largestFrameBytes, "\(message.kind) under \(limits)")
                biggest = max(biggest, largest)
            }
            // Where bulk frames rather than the header set the limit, some ring frame reaches it.
            if limits != welcomedLimits { XCTAssertEqual(biggest, limits.largestFrameBytes, "\(limits)") }
        }
    }
}
