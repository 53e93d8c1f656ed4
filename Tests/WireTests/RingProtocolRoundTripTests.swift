import Wire
import XCTest

private struct UnexpectedKind: Error {
    let kind: WireMessageKind
}

/// The ring collective's kinds go out through a DEALER and are decoded from
/// what the ROUTER received; every field must come back as it was sent.
final class RingProtocolRoundTripTests: XCTestCase {
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

    func testRingAddress() throws {
        let address = RingAddress(endpoint: "tcp://nœud-3.ring:5601")
        guard case .ringAddress(let decoded) = try roundTrip(.ringAddress(address), limits: .beforeWelcome) else {
            return XCTFail("not a ring address")
        }
        XCTAssertEqual(decoded, address)
        let keyed = RingAddress(endpoint: "tcp://10.0.0.5:6000", publicKey: try CurveKeyPair.generate().publicKey)
        guard case .ringAddress(let decodedKeyed) = try roundTrip(.ringAddress(keyed), limits: .beforeWelcome) else {
            return XCTFail("not a ring address")
        }
        XCTAssertEqual(decodedKeyed, keyed)
        let shared = RingAddress(endpoint: "tcp://h:1", host: "h 1234 42 uid 0", sharedInboxPrefix: "/dev/shm/dptrain-0/ring-77-")
        guard case .ringAddress(let decodedShared) = try roundTrip(.ringAddress(shared), limits: .beforeWelcome) else {
            return XCTFail("not a ring address")
        }
        XCTAssertEqual(decodedShared, shared)
    }

    func testAKeyThatIsNotZ85IsRefused() throws {
        let key = try CurveKeyPair.generate().publicKey
        let parts = try encodedBytes(.ringAddress(RingAddress(endpoint: "e", publicKey: key)))
        // The key's 40 bytes come just before two empty strings (host, shared inbox prefix: a UInt16 length of 0
        // each); a space is outside Z85's alphabet.
        assertRejects(patched(parts, at: parts[0].count - 1 - 2 * 2, [UInt8(ascii: " ")]), limits: .beforeWelcome,
                      with: .invalidKey(what: "ring public key"))
    }

    func testRingSetup() throws {
        var whole = try makeRingSetup(ownedStart: 0, ownedCount: 10)
        (whole.rank, whole.size, whole.nesterov, whole.rightNeighbour) = (0, 1, false, "")
        var secure = try makeRingSetup()
        (secure.rightNeighbourKey, secure.leftNeighbourKey) = (try CurveKeyPair.generate().publicKey, try CurveKeyPair.generate().publicKey)
        (secure.inboxSegment, secure.outboxSegment) = ("/dev/shm/dptrain-0/ring-1-a.seg", "/dev/shm/dptrain-0/ring-2-b.seg")
        for setup in [try makeRingSetup(), whole, secure] {
            guard case .ringSetup(let decoded) = try roundTrip(.ringSetup(setup)) else { return XCTFail("not a ring setup") }
            XCTAssertEqual(decoded.generation, setup.generation)
            XCTAssertEqual(decoded.step, setup.step)
            XCTAssertEqual(decoded.rank, setup.rank)
            XCTAssertEqual(decoded.size, setup.size)
            XCTAssertEqual(decoded.rightNeighbour, setup.rightNeighbour)
            XCTAssertEqual(decoded.momentum, setup.momentum)
            XCTAssertEqual(decoded.nesterov, setup.nesterov)
            XCTAssertEqual(decoded.weightDecay, setup.weightDecay)
            XCTAssertEqual(decoded.ownedStart, setup.ownedStart)
            XCTAssertEqual(decoded.ownedCount, setup.ownedCount)
            XCTAssertEqual(floats(of: decoded.weights), floats(of: setup.weights))
            XCTAssertEqual(floats(of: decoded.velocity), floats(of: setup.velocity))
            XCTAssertEqual(decoded.rightNeighbourKey, setup.rightNeighbourKey)
            XCTAssertEqual(decoded.leftNeighbourKey, setup.leftNeighbourKey)
            XCTAssertEqual(decoded.inboxSegment, setup.inboxSegment)
            XCTAssertEqual(decoded.outboxSegment, setup.outboxSegment)
        }
    }

    func testRingWorkWithShards() throws {
        let work = try makeRingWork()
        guard case .ringWork(let decoded) = try roundTrip(.ringWork(work)) else { return XCTFail("not ring work") }
        XCTAssertEqual(decoded.generation, 5)
        XCTAssertEqual(decoded.step, 41)
        XCTAssertEqual(decoded.learningRate, 0.05)
        XCTAssertEqual(decoded.batchSamples, 20)
        XCTAssertEqual(decoded.shards, [Work.Shard(shardID: 200, sampleCount: 3), Work.Shard(shardID: 201, sampleCount: 2)])
        XCTAssertEqual(decoded.sampleCount, 5)
        XCTAssertEqual(decoded.withPixels { Array($0) }, (0..<20).map { UInt8(255 - $0) })
        XCTAssertEqual(decoded.withLabels { Array($0) }, [9, 8, 7, 6, 5])
    }

    /// Verified gradients: own shards first, then a shard only to check; the digested ids read in place.
    func testRingWorkWithShardsToDigest() throws {
        let shards = [Work.Shard(shardID: 200, sampleCount: 3), Work.Shard(shardID: 201, sampleCount: 2), Work.Shard(shardID: 7, sampleCount: 1)]
        let work = RingWork(
            generation: 5, step: 41, learningRate: 0.05, batchSamples: 20, shards: shards, ownCount: 2, digested: [201, 7],
            pixels: try ZMQMessage(copying: [UInt8](repeating: 1, count: 24)), labels: try ZMQMessage(copying: [UInt8](repeating: 2, count: 6)))
        guard case .ringWork(let decoded) = try roundTrip(.ringWork(work)) else { return XCTFail("not ring work") }
        XCTAssertEqual(decoded.shards, ShardList(shards))
        XCTAssertEqual(decoded.ownCount, 2)
        XCTAssertEqual(Array(decoded.digested), [201, 7])
        XCTAssertEqual(decoded.shards.indices.map(decoded.isDigested), [false, true, true])
    }

    func testRingDoneWithDigests() throws {
        var done = sampleRingDone
        done.digests = [ShardDigest(shardID: 3, hash: SIMD4(1, .max, 0, 42)), ShardDigest(shardID: 9, hash: SIMD4(repeating: 7))]
        guard case .ringDone(let decoded) = try roundTrip(.ringDone(done)) else { return XCTFail("not a ring done") }
        XCTAssertEqual(decoded, done)
    }

    func testRingDoneWithAGradientNorm() throws {
        for norm in [0, 0.1 + 0.2, 3e300] {
            var done = sampleRingDone
            done.gradientNorm = norm
            guard case .ringDone(let decoded) = try roundTrip(.ringDone(done), limits: .beforeWelcome) else {
                return XCTFail("not a ring done")
            }
            XCTAssertEqual(decoded.gradientNorm?.bitPattern, norm.bitPattern)
            XCTAssertEqual(decoded, done)
        }
    }

    /// One member's 16-byte value, words in order, the high bit of each kept.
    func testValueExchangeChunk() throws {
        let words: [Int64] = [Int64(bitPattern: 0x8000_0000_0000_0001), 0x0123_4567_89AB_CDEF]
        var chunk = makeRingChunk(.rawInt64, valueCount: 2, values: try int64Frame(words))
        chunk.phase = .valueExchange
        chunk.chunk = 7
        let decoded = try roundTrip(chunk)
        XCTAssertEqual(decoded.exchangedValue, SIMD2<UInt64>(0x8000_0000_0000_0001, 0x0123_4567_89AB_CDEF))
        XCTAssertEqual(decoded.chunk, 7)
    }

    func testLinkTokensTravel() throws {
        var setup = try makeRingSetup()
        (setup.leftLinkToken, setup.rightLinkToken) = (.max, 1 << 63 + 5)
        guard case .ringSetup(let decoded) = try roundTrip(.ringSetup(setup)) else { return XCTFail("not a ring setup") }
        XCTAssertEqual(decoded.leftLinkToken, .max)
        XCTAssertEqual(decoded.rightLinkToken, 1 << 63 + 5)
        var chunk = makeRingChunk(.rawInt64, valueCount: 1, values: try int64Frame([5]))
        chunk.link = 0xDEAD_BEEF_0BAD_F00D
        XCTAssertEqual(try roundTrip(chunk).link, 0xDEAD_BEEF_0BAD_F00D)
    }

    /// A member given no shards still gets the step, with empty pixel and label frames.
    func testRingWorkWithoutShards() throws {
        let work = try makeRingWork(sampleCounts: [])
        guard case .ringWork(let decoded) = try roundTrip(.ringWork(work)) else { return XCTFail("not ring work") }
        XCTAssertEqual(decoded.step, 41)
        XCTAssertEqual(decoded.batchSamples, 20)
        XCTAssertEqual(decoded.shards, [])
        XCTAssertEqual(decoded.sampleCount, 0)
        XCTAssertEqual(decoded.pixels.count, 0)
        XCTAssertEqual(decoded.labels.count, 0)
    }

    private func roundTrip(_ chunk: RingChunk, limits: DecodingLimits = welcomedLimits) throws -> RingChunk {
        let message = try roundTrip(.ringChunk(chunk), limits: limits)
        guard case .ringChunk(let decoded) = message else { throw UnexpectedKind(kind: message.kind) }
        XCTAssertEqual(decoded.generation, chunk.generation)
        XCTAssertEqual(decoded.step, chunk.step)
        XCTAssertEqual(decoded.phase, chunk.phase)
        XCTAssertEqual(decoded.round, chunk.round)
        XCTAssertEqual(decoded.chunk, chunk.chunk)
        XCTAssertEqual(decoded.nonFinite, chunk.nonFinite)
        XCTAssertEqual(decoded.encoding, chunk.encoding)
        XCTAssertEqual(decoded.valueCount, chunk.valueCount)
        XCTAssertEqual(decoded.values.bytes, chunk.values.bytes)
        return decoded
    }

    func testRingChunkOfRawInt64s() throws {
        let values: [Int64] = [0, 1, -1, Int64.max, Int64.min, 1 << 40, -(1 << 33)]
        var chunk = makeRingChunk(.rawInt64, valueCount: values.count, values: try int64Frame(values))
        chunk.nonFinite = true
        chunk.round = UInt32(RingSetup.maxSize - 2)
        chunk.chunk = UInt32(RingSetup.maxSize - 1)
        let decoded = try roundTrip(chunk)
        XCTAssertEqual(int64s(of: decoded.values), values)
    }

    /// Blocks of three widths (8, 0 and 38 bits) over a count that is not a whole number of blocks.
    func testRingChunkOfPackedInt64s() throws {
        let values: [Int64] = (0..<700).map { (i: Int) -> Int64 in
            if i < 256 { return i % 2 == 0 ? 100 : -100 }
            return i < 512 ? 0 : (1 << 36) | Int64(i)
        }
        let frame = try packedInt64Frame(values)
        // 44 width bytes padded to 48; 16 blocks of 8 bits; 11 whole blocks of 38 bits and 12 values more.
        let bytes: Int = 48 + 16 * 16 + 11 * 76 + (12 * 38 + 7) / 8
        XCTAssertEqual(frame.count, (bytes + 7) / 8 * 8, "not the mixed widths this test means to send")
        let limits = DecodingLimits(parameterCount: 700, inputSize: 4, shardSize: 8, maxShards: 4)
        let decoded = try roundTrip(makeRingChunk(.packedInt64, valueCount: 700, values: frame), limits: limits)
        var sum = [Int64](repeating: 0, count: 700)
        sum.withUnsafeMutableBufferPointer { decoded.add(into: $0) }
        XCTAssertEqual(sum, values)
    }

    func testRingChunkOfFloats() throws {
        let values: [Float] = [0, -0.0, 1.5, -3.25e-8, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        let decoded = try roundTrip(makeRingChunk(.rawFloat, valueCount: values.count, values: try floatFrame(values)))
        XCTAssertEqual(decoded.phase, .allGather)
        XCTAssertEqual(floats(of: decoded.values).map(\.bitPattern), values.map(\.bitPattern))
    }

    /// A chunk's values add onto a partial sum that already holds others, wrapping like the fixed-point sums do.
    func testChunksAddOntoAnExistingSumWithWrapping() throws {
        let start: [Int64] = [Int64.max, Int64.min, 10, -10, 0, 1 << 50, 7, 7, 7, 7]
        let incoming: [Int64] = [1, -1, -10, 10, 0, 1 << 50, -(1 << 40), 3, 0, Int64.min]
        let expected = zip(start, incoming).map { $0 &+ $1 }
        XCTAssertEqual(expected[0], Int64.min, "the test means to wrap")
        for frame in [(RingChunk.Encoding.rawInt64, try int64Frame(incoming)), (.packedInt64, try packedInt64Frame(incoming))] {
            let decoded = try roundTrip(makeRingChunk(frame.0, valueCount: incoming.count, values: frame.1))
            var sum = start
            sum.withUnsafeMutableBufferPointer { decoded.add(into: $0) }
            XCTAssertEqual(sum, expected, "\(frame.0)")
            // Adding the same chunk again adds again: nothing was consumed.
            sum.withUnsafeMutableBufferPointer { decoded.add(into: $0) }
            XCTAssertEqual(sum, zip(expected, incoming).map { $0 &+ $1 }, "\(frame.0), twice")
        }
    }

    /// A packed chunk's all-zero blocks add nothing, and leave the sum's values there as they were.
    func testPackedZeroBlocksLeaveTheSumAlone() throws {
        let incoming = [Int64](repeating: 0, count: 300)
        let limits = DecodingLimits(parameterCount: 300, inputSize: 4, shardSize: 8, maxShards: 4)
        let decoded = try roundTrip(makeRingChunk(.packedInt64, valueCount: 300, values: try packedInt64Frame(incoming)),
                                    limits: limits)
        XCTAssertEqual(decoded.values.count, 24, "nineteen zero-width blocks: only the width bytes")
        let start = (0..<300).map { Int64($0) * 3 - 450 }
        var sum = start
        sum.withUnsafeMutableBufferPointer { decoded.add(into: $0) }
        XCTAssertEqual(sum, start)
    }

    func testCopyFloatsOverwritesTheTarget() throws {
        let values: [Float] = [0.5, -1, 2e10, -0.0, 3]
        let decoded = try roundTrip(makeRingChunk(.rawFloat, valueCount: 5, values: try floatFrame(values)))
        var target = [Float](repeating: .nan, count: 5)
        target.withUnsafeMutableBufferPointer { decoded.writeWeights(into: $0) }
        XCTAssertEqual(target.map(\.bitPattern), values.map(\.bitPattern))
    }

    func testRingDoneInEveryStatus() throws {
        for status in [RingDone.Status.updated, .nonFinite, .stalled] {
            var done = sampleRingDone
            done.status = status
            guard case .ringDone(let decoded) = try roundTrip(.ringDone(done), limits: .beforeWelcome) else {
                return XCTFail("not a ring done")
            }
            XCTAssertEqual(decoded, done)
            XCTAssertEqual(decoded.status, status)
        }
    }

    func testStateRequest() throws {
        let request = StateRequest(generation: UInt64.max, step: 1 << 40)
        guard case .stateRequest(let decoded) = try roundTrip(.stateRequest(request), limits: .beforeWelcome) else {
            return XCTFail("not a state request")
        }
        XCTAssertEqual(decoded, request)
    }

    func testStateSlice() throws {
        for slice in [try makeStateSlice(), try makeStateSlice(start: 10, count: 0)] {
            guard case .stateSlice(let decoded) = try roundTrip(.stateSlice(slice)) else { return XCTFail("not a state slice") }
            XCTAssertEqual(decoded.generation, slice.generation)
            XCTAssertEqual(decoded.step, slice.step)
            XCTAssertEqual(decoded.start, slice.start)
            XCTAssertEqual(decoded.count, slice.count)
            XCTAssertEqual(floats(of: decoded.weights), floats(of: slice.weights))
            XCTAssertEqual(floats(of: decoded.velocity), floats(of: slice.velocity))
        }
    }
}
