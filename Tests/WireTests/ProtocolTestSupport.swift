import Wire
import XCTest

/// Shapes of a tiny model: 10 parameters, 4 pixels per sample, shards of up to 8 samples.
let welcomedLimits = DecodingLimits(parameterCount: 10, inputSize: 4, shardSize: 8, maxShards: 4)

func floatFrame(_ values: [Float]) throws -> ZMQMessage {
    let message = try ZMQMessage(size: values.count * 4)
    message.withUnsafeMutableElements(of: Float.self) { _ = $0.initialize(from: values) }
    return message
}

func int64Frame(_ values: [Int64]) throws -> ZMQMessage {
    let message = try ZMQMessage(size: values.count * 8)
    message.withUnsafeMutableElements(of: Int64.self) { _ = $0.initialize(from: values) }
    return message
}

func floats(of frame: ZMQMessage) -> [Float] {
    frame.withUnsafeElements(of: Float.self) { Array($0) }
}

func int64s(of frame: ZMQMessage) -> [Int64] {
    frame.withUnsafeElements(of: Int64.self) { Array($0) }
}

/// `values` in PackedInt64s' block format, measured and packed as a sender does.
func packedInt64Frame(_ values: [Int64]) throws -> ZMQMessage {
    try values.withUnsafeBufferPointer { values in
        let frame = try ZMQMessage(size: PackedInt64s.measure(values))
        frame.withUnsafeMutableBytes { PackedInt64s.pack(values, intoFrameOfItsSize: $0) }
        return frame
    }
}

func makeWork(sampleCounts: [UInt32] = [3, 2], parameterCount: Int = 10, inputSize: Int = 4) throws -> Work {
    let samples = sampleCounts.reduce(0) { $0 + Int($1) }
    return Work(
        step: 12,
        shards: sampleCounts.enumerated().map { Work.Shard(shardID: UInt32(100 + $0.offset), sampleCount: $0.element) },
        weights: try floatFrame((0..<parameterCount).map { Float($0) * 0.25 }),
        pixels: try ZMQMessage(copying: (0..<samples * inputSize).map { UInt8(truncatingIfNeeded: $0) }),
        labels: try ZMQMessage(copying: (0..<samples).map { UInt8($0 % 10) }))
}

func makeGradient(parameterCount: Int = 10, shardIDs: [UInt32] = [100, 101], samples: UInt32 = 5) throws -> Gradient {
    Gradient(
        step: 12, lossSumFixedPoint: -123_456_789_012, correct: 4, sampleCount: samples,
        computeNanoseconds: 987_654_321, shardIDs: ShardIDs(shardIDs),
        gradient: try int64Frame((0..<parameterCount).map { Int64($0) * -3 }))
}

let sampleRightNeighbour = "tcp://node-0.ring:5601"

/// Rank 2 of a ring of 3, owning parameters 7..<10 of welcomedLimits' 10.
func makeRingSetup(ownedStart: UInt64 = 7, ownedCount: UInt64 = 3, parameterCount: Int = 10) throws -> RingSetup {
    RingSetup(
        generation: 5, step: 40, rank: 2, size: 3, rightNeighbour: sampleRightNeighbour,
        momentum: 0.9, nesterov: true, weightDecay: 5e-4, ownedStart: ownedStart, ownedCount: ownedCount,
        weights: try floatFrame((0..<parameterCount).map { Float($0) * -0.5 }),
        velocity: try floatFrame((0..<Int(ownedCount)).map { Float($0) + 0.125 }))
}

/// Shards of 3 and 2 samples of a 20-sample global batch; no shards gives empty frames.
func makeRingWork(sampleCounts: [UInt32] = [3, 2], batchSamples: UInt32 = 20, inputSize: Int = 4) throws -> RingWork {
    let samples = sampleCounts.reduce(0) { $0 + Int($1) }
    return RingWork(
        generation: 5, step: 41, learningRate: 0.05, batchSamples: batchSamples,
        shards: sampleCounts.enumerated().map { Work.Shard(shardID: UInt32(200 + $0.offset), sampleCount: $0.element) },
        pixels: try ZMQMessage(copying: (0..<samples * inputSize).map { UInt8(truncatingIfNeeded: 255 - $0) }),
        labels: try ZMQMessage(copying: (0..<samples).map { UInt8(9 - $0 % 10) }))
}

/// Round 1, chunk 2 of step 41; the phase follows the encoding, as a sender's does.
func makeRingChunk(_ encoding: RingChunk.Encoding, valueCount: Int, values: ZMQMessage) -> RingChunk {
    RingChunk(
        generation: 5, step: 41, phase: encoding == .rawFloat ? .allGather : .reduceScatter, round: 1, chunk: 2,
        nonFinite: false, encoding: encoding, valueCount: UInt32(valueCount), values: values)
}

func makeStateSlice(start: UInt64 = 3, count: UInt64 = 4) throws -> StateSlice {
    StateSlice(
        generation: 5, step: 42, start: start, count: count,
        weights: try floatFrame((0..<Int(count)).map { Float($0) * 1.5 }),
        velocity: try floatFrame((0..<Int(count)).map { -Float($0) / 8 }))
}

let sampleRingDone = RingDone(
    generation: 5, step: 41, status: .updated, lossSumFixedPoint: -98_765_432_109, correct: 3, sampleCount: 5,
    computeNanoseconds: 123_456_789)

let sampleWelcome = Welcome(
    workerID: 3, shardSize: 8, heartbeatMilliseconds: 250, peerTimeoutMilliseconds: 2_000, activation: "relu", loss: "cross-entropy",
    layerSizes: [4, 3, 2])

/// The encoded frames as fresh byte arrays, ready to be damaged.
func encodedBytes(_ message: WireMessage) throws -> [[UInt8]] {
    try message.encode().map(\.bytes)
}

/// A copy of `parts` with `bytes` written into frame `frame` at `offset`.
func patched(_ parts: [[UInt8]], frame: Int = 0, at offset: Int, _ bytes: [UInt8]) -> [[UInt8]] {
    var parts = parts
    parts[frame].replaceSubrange(offset..<offset + bytes.count, with: bytes)
    return parts
}

func assertRejects(
    _ parts: [[UInt8]], limits: DecodingLimits = welcomedLimits, with expected: ProtocolError,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try WireMessage.decode(try frames(parts), limits: limits), file: file, line: line) { error in
        XCTAssertEqual(error as? ProtocolError, expected, "got \(error)", file: file, line: line)
        XCTAssertFalse("\(error)".isEmpty, file: file, line: line)
    }
}

/// Sends `message` through a DEALER and decodes what the ROUTER received.
func roundTrip(
    _ message: WireMessage, through pair: RouterDealerPair, limits: DecodingLimits = welcomedLimits,
    file: StaticString = #filePath, line: UInt = #line
) throws -> WireMessage {
    try pair.dealer.send(message.encode())
    let routed = try XCTUnwrap(pair.router.receiveRouted(timeoutMilliseconds: 5_000), file: file, line: line)
    let decoded = try WireMessage.decode(routed.frames, limits: limits)
    XCTAssertEqual(decoded.kind, message.kind, file: file, line: line)
    return decoded
}
