import Wire
import XCTest

/// The ring collective's kinds, damaged one field or frame at a time. Header
/// offsets count from the 8-byte message header:
/// - ring setup: generation 8, step 16, rank 24, size 28, right neighbour 32
///   (UInt16 length, then bytes), then momentum, nesterov, weight decay,
///   owned start and owned count (4, 1, 4, 8, 8 bytes);
/// - ring work: generation 8, step 16, learning rate 24, batch samples 28,
///   own shard count 32, digested count 36, digested ids (none here), shard
///   count 40, shards (id, sample count) from 44;
/// - ring chunk: generation 8, step 16, phase 24, round 25, chunk 29,
///   non-finite flag 33, encoding 34, value count 35, link token 39, 47 bytes in all;
/// - ring done: generation 8, step 16, status 24, loss 25, correct 33,
///   samples 37, compute time 41, norm flag 49, norm 50, digest count 58,
///   62 bytes in all (no digests);
/// - state request: generation 8, step 16; state slice: then start 24, count 32.
final class RingProtocolRejectionTests: XCTestCase {
    private func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    private func le64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    private func rawChunk() throws -> [[UInt8]] {
        try encodedBytes(.ringChunk(makeRingChunk(.rawInt64, valueCount: 10, values: try int64Frame((0..<10).map { Int64($0) * -3 }))))
    }

    private func floatChunk() throws -> [[UInt8]] {
        try encodedBytes(.ringChunk(makeRingChunk(.rawFloat, valueCount: 5, values: try floatFrame([1, 2, 3, 4, 5]))))
    }

    /// Offset of the field after the right neighbour's bytes in the sample setup's header.
    private let afterNeighbour = 34 + sampleRightNeighbour.utf8.count

    // MARK: - Frames and header lengths

    func testWrongFrameCounts() throws {
        let address = try encodedBytes(.ringAddress(RingAddress(endpoint: "tcp://a:1")))
        assertRejects(address + [[]], with: .wrongFrameCount(kind: "ring address", expected: 1, actual: 2))
        let setup = try encodedBytes(.ringSetup(try makeRingSetup()))
        assertRejects(Array(setup.prefix(2)), with: .wrongFrameCount(kind: "ring setup", expected: 3, actual: 2))
        assertRejects(setup + [[]], with: .wrongFrameCount(kind: "ring setup", expected: 3, actual: 4))
        let work = try encodedBytes(.ringWork(try makeRingWork()))
        assertRejects(Array(work.prefix(2)), with: .wrongFrameCount(kind: "ring work", expected: 3, actual: 2))
        assertRejects(work + [[]], with: .wrongFrameCount(kind: "ring work", expected: 3, actual: 4))
        let chunk = try rawChunk()
        assertRejects(Array(chunk.prefix(1)), with: .wrongFrameCount(kind: "ring chunk", expected: 2, actual: 1))
        assertRejects(chunk + [[]], with: .wrongFrameCount(kind: "ring chunk", expected: 2, actual: 3))
        let done = try encodedBytes(.ringDone(sampleRingDone))
        assertRejects(done + [[]], with: .wrongFrameCount(kind: "ring done", expected: 1, actual: 2))
        let request = try encodedBytes(.stateRequest(StateRequest(generation: 1, step: 2)))
        assertRejects(request + [[]], with: .wrongFrameCount(kind: "state request", expected: 1, actual: 2))
        let slice = try encodedBytes(.stateSlice(try makeStateSlice()))
        assertRejects(Array(slice.prefix(2)), with: .wrongFrameCount(kind: "state slice", expected: 3, actual: 2))
        assertRejects(slice + [[]], with: .wrongFrameCount(kind: "state slice", expected: 3, actual: 4))
    }

    /// A shard after the own ones that is not digested, an own count past the
    /// list, a digested id naming no shard or naming one twice: refused on
    /// both sides.
    func testShardsToDigestMustNameTheWork() throws {
        let work = try encodedBytes(.ringWork(try makeRingWork()))
        assertRejects(patched(work, at: 32, le32(1)), with: .outOfRange(
            what: "shard 201 of ring work, neither own nor digested", value: 1, min: 0, max: 0))
        assertRejects(patched(work, at: 32, le32(3)), with: .outOfRange(what: "own shard count of ring work", value: 3, min: 0, max: 2))
        func encoding(ownCount: Int, digested: [UInt32]) throws -> [ZMQMessage] {
            var ring = try makeRingWork()
            ring = RingWork(
                generation: ring.generation, step: ring.step, learningRate: ring.learningRate, batchSamples: ring.batchSamples,
                shards: Array(ring.shards), ownCount: ownCount, digested: digested, pixels: ring.pixels, labels: ring.labels)
            return try WireMessage.ringWork(ring).encode()
        }
        XCTAssertThrowsError(try encoding(ownCount: 1, digested: [])) { error in
            XCTAssertEqual(error as? ProtocolError, .outOfRange(what: "shard 201 of ring work, neither own nor digested", value: 1, min: 0, max: 0))
        }
        XCTAssertThrowsError(try encoding(ownCount: 2, digested: [999]))
        XCTAssertThrowsError(try encoding(ownCount: 2, digested: [200, 200]))
        XCTAssertNoThrow(try encoding(ownCount: 1, digested: [201]))
    }

    func testTruncatedHeaderFields() throws {
        func cut(_ parts: [[UInt8]], to length: Int) -> [[UInt8]] {
            var parts = parts
            parts[0] = Array(parts[0].prefix(length))
            return parts
        }
        let address = try encodedBytes(.ringAddress(RingAddress(endpoint: "tcp://a:1")))
        assertRejects(cut(address, to: 18), with: .truncated(what: "ring endpoint in ring address header", needed: 19, available: 18))
        let setup = try encodedBytes(.ringSetup(try makeRingSetup()))
        assertRejects(cut(setup, to: 26), with: .truncated(what: "rank in ring setup header", needed: 28, available: 26))
        let end = afterNeighbour + 25
        // Then the two neighbour keys, empty strings in plaintext: 2 length
        // bytes each, two link tokens, the optimiser (its kind and three
        // Floats), the clip value and norm, the two shared-memory segments,
        // empty strings (sockets), the host size and two shared link tokens.
        XCTAssertEqual(setup[0].count, end + 4 + 16 + 21 + 4 + 20)
        assertRejects(cut(setup, to: end - 1), with: .truncated(what: "owned count in ring setup header", needed: end, available: end - 1))
        let work = try encodedBytes(.ringWork(try makeRingWork()))
        assertRejects(cut(work, to: 30), with: .truncated(what: "batch samples in ring work header", needed: 32, available: 30))
        assertRejects(cut(work, to: 59), with: .truncated(what: "shards in ring work header", needed: 60, available: 59))
        let chunk = try rawChunk()
        assertRejects(cut(chunk, to: 24), with: .truncated(what: "phase in ring chunk header", needed: 25, available: 24))
        assertRejects(cut(chunk, to: 38), with: .truncated(what: "value count in ring chunk header", needed: 39, available: 38))
        let done = try encodedBytes(.ringDone(sampleRingDone))
        assertRejects(cut(done, to: 45), with: .truncated(what: "compute time in ring done header", needed: 49, available: 45))
        let request = try encodedBytes(.stateRequest(StateRequest(generation: 1, step: 2)))
        assertRejects(cut(request, to: 20), with: .truncated(what: "step in state request header", needed: 24, available: 20))
        let slice = try encodedBytes(.stateSlice(try makeStateSlice()))
        assertRejects(cut(slice, to: 36), with: .truncated(what: "slice count in state slice header", needed: 40, available: 36))
    }

    func testTrailingHeaderBytes() throws {
        func grow(_ parts: [[UInt8]], by extra: Int = 1) -> [[UInt8]] {
            var parts = parts
            parts[0] += [UInt8](repeating: 0, count: extra)
            return parts
        }
        let address = try encodedBytes(.ringAddress(RingAddress(endpoint: "tcp://a:1")))
        // 19 bytes, then the empty public key, host and shared inbox prefix: 2 length bytes each.
        assertRejects(grow(address), with: .oversized(what: "ring address header", size: 26, limit: 25))
        let setup = try encodedBytes(.ringSetup(try makeRingSetup()))
        let end = afterNeighbour + 25 + 4 + 16 + 21 + 4 + 20
        assertRejects(grow(setup), with: .oversized(what: "ring setup header", size: end + 1, limit: end))
        // A ninth shard's worth of bytes in a work of two shards.
        let work = try encodedBytes(.ringWork(try makeRingWork()))
        assertRejects(grow(work, by: 8), with: .oversized(what: "ring work header", size: 68, limit: 60))
        let empty = try encodedBytes(.ringWork(try makeRingWork(sampleCounts: [])))
        assertRejects(grow(empty, by: 8), with: .oversized(what: "ring work header", size: 52, limit: 44))
        assertRejects(grow(try rawChunk()), with: .oversized(what: "ring chunk header", size: 48, limit: 47))
        assertRejects(grow(try encodedBytes(.ringDone(sampleRingDone))), with: .oversized(what: "ring done header", size: 63, limit: 62))
        let request = try encodedBytes(.stateRequest(StateRequest(generation: 1, step: 2)))
        assertRejects(grow(request), with: .oversized(what: "state request header", size: 25, limit: 24))
        assertRejects(grow(try encodedBytes(.stateSlice(try makeStateSlice()))),
                      with: .oversized(what: "state slice header", size: 42, limit: 41))
    }

    // MARK: - Bulk frames against the header and the limits

    func testRingSetupFrames() throws {
        var short = try encodedBytes(.ringSetup(try makeRingSetup()))
        short[1].removeLast(4)
        assertRejects(short, with: .shapeMismatch(what: "weights frame of ring setup (10 floats)", expected: 40, actual: 36))
        assertRejects(try encodedBytes(.ringSetup(try makeRingSetup(parameterCount: 11))),
                      with: .shapeMismatch(what: "weights frame of ring setup (10 floats)", expected: 40, actual: 44))
        var long = try encodedBytes(.ringSetup(try makeRingSetup()))
        long[2] += [0, 0, 0, 0]
        assertRejects(long, with: .shapeMismatch(what: "optimiser state frame of ring setup (1 × 3 floats)", expected: 12, actual: 16))
        // The encoder checks the velocity against the owned count itself.
        var setup = try makeRingSetup()
        setup.velocity = try floatFrame([1, 2])
        XCTAssertThrowsError(try WireMessage.ringSetup(setup).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .shapeMismatch(what: "optimiser state frame of ring setup", expected: 12, actual: 8))
        }
    }

    func testRingWorkFrames() throws {
        var pixels = try encodedBytes(.ringWork(try makeRingWork()))
        pixels[1].append(0)
        assertRejects(pixels, with: .shapeMismatch(what: "pixels frame of ring work (5 samples × 4)", expected: 20, actual: 21))
        let other = DecodingLimits(parameterCount: 10, inputSize: 5, shardSize: 8, maxShards: 4)
        assertRejects(try encodedBytes(.ringWork(try makeRingWork())), limits: other,
                      with: .shapeMismatch(what: "pixels frame of ring work (5 samples × 5)", expected: 25, actual: 20))
        var labels = try encodedBytes(.ringWork(try makeRingWork()))
        labels[2].removeLast()
        assertRejects(labels, with: .shapeMismatch(what: "labels frame of ring work (5 samples)", expected: 5, actual: 4))
        // No shards: the frames must be empty, on either side.
        var empty = try encodedBytes(.ringWork(try makeRingWork(sampleCounts: [])))
        empty[1] = [1, 2, 3, 4]
        assertRejects(empty, with: .shapeMismatch(what: "pixels frame of ring work (0 samples × 4)", expected: 0, actual: 4))
        var work = try makeRingWork(sampleCounts: [])
        work.pixels = try ZMQMessage(copying: [1, 2, 3, 4])
        XCTAssertThrowsError(try WireMessage.ringWork(work).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .shapeMismatch(what: "pixels frame of ring work", expected: 0, actual: 4))
        }
        work.pixels = try ZMQMessage(copying: [])
        work.labels = try ZMQMessage(copying: [7])
        XCTAssertThrowsError(try WireMessage.ringWork(work).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .shapeMismatch(what: "labels frame of ring work", expected: 0, actual: 1))
        }
    }

    func testRingChunkValuesMustMatchTheirCountAndEncoding() throws {
        var short = try rawChunk()
        short[1].removeLast()
        assertRejects(short, with: .shapeMismatch(what: "ring chunk (10 Int64s)", expected: 80, actual: 79))
        assertRejects(patched(try rawChunk(), at: 35, le32(9)), with: .shapeMismatch(what: "ring chunk (9 Int64s)", expected: 72, actual: 80))
        // Five Int64s' bytes are ten floats, not five.
        let wide = makeRingChunk(.rawFloat, valueCount: 10, values: try int64Frame([1, 2, 3, 4, 5]))
        assertRejects(patched(try encodedBytes(.ringChunk(wide)), at: 35, le32(5)),
                      with: .shapeMismatch(what: "ring chunk (5 floats)", expected: 20, actual: 40))
        // The encoder refuses what the decoder would.
        XCTAssertThrowsError(try WireMessage.ringChunk(makeRingChunk(.rawFloat, valueCount: 5, values: try int64Frame([1, 2, 3, 4, 5]))).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .shapeMismatch(what: "ring chunk (5 floats)", expected: 20, actual: 40))
        }
        // The raw frame read as packed: its first Int64 is 0, so one zero-width block of 8 bytes.
        assertRejects(patched(try rawChunk(), at: 34, [1]),
                      with: .shapeMismatch(what: "ring chunk (packed, 10 Int64s)", expected: 8, actual: 80))
        // Ten 29-bit values pack to 8 + 37 bytes, 48 with the padding; five would take 32.
        let packed = try encodedBytes(.ringChunk(makeRingChunk(
            .packedInt64, valueCount: 10, values: try packedInt64Frame((1...10).map { Int64($0) << 24 }))))
        XCTAssertEqual(packed[1].count, 48)
        assertRejects(patched(packed, at: 35, le32(5)),
                      with: .shapeMismatch(what: "ring chunk (packed, 5 Int64s)", expected: 32, actual: 48))
        assertRejects(patched(packed, frame: 1, at: 0, [65]), with: .outOfRange(what: "ring chunk block 0 width", value: 65, min: 0, max: 64))
    }

    func testStateSliceFrames() throws {
        var weights = try encodedBytes(.stateSlice(try makeStateSlice()))
        weights[1].removeLast(4)
        assertRejects(weights, with: .shapeMismatch(what: "weights frame of state slice (4 floats)", expected: 16, actual: 12))
        var velocity = try encodedBytes(.stateSlice(try makeStateSlice()))
        velocity[2] += [0, 0, 0, 0]
        assertRejects(velocity, with: .shapeMismatch(what: "optimiser state frame of state slice (1 × 4 floats)", expected: 16, actual: 20))
        var slice = try makeStateSlice()
        slice.weights = try floatFrame([1, 2, 3])
        XCTAssertThrowsError(try WireMessage.stateSlice(slice).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .shapeMismatch(what: "weights frame of state slice", expected: 16, actual: 12))
        }
    }

    // MARK: - Values out of range

    func testRingPlaceOutOfRange() throws {
        let setup = try encodedBytes(.ringSetup(try makeRingSetup()))
        assertRejects(patched(setup, at: 24, le32(3)), with: .outOfRange(what: "ring rank", value: 3, min: 0, max: 2))
        assertRejects(patched(setup, at: 28, le32(0)), with: .outOfRange(what: "ring size", value: 0, min: 1, max: 4096))
        assertRejects(patched(setup, at: 28, le32(4097)), with: .outOfRange(what: "ring size", value: 4097, min: 1, max: 4096))
        var encoded = try makeRingSetup()
        encoded.rank = 3
        XCTAssertThrowsError(try WireMessage.ringSetup(encoded).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .outOfRange(what: "ring rank", value: 3, min: 0, max: 2))
        }
        encoded.size = 0
        XCTAssertThrowsError(try WireMessage.ringSetup(encoded).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .outOfRange(what: "ring size", value: 0, min: 1, max: 4096))
        }
        assertRejects(patched(setup, at: afterNeighbour + 4, [2]), with: .outOfRange(what: "nesterov flag", value: 2, min: 0, max: 1))
    }

    /// Two levels: hosts of `hostSize` members must divide the ring into
    /// two hosts or more, of two members or more, linked in shared memory.
    func testATwoLevelSetupMustFitItsRing() throws {
        var setup = try makeRingSetup()
        (setup.inboxSegment, setup.outboxSegment) = ("/dev/shm/dptrain-0/ring-1-2.seg", "/dev/shm/dptrain-0/ring-3-4.seg")
        (setup.hostSize, setup.sharedLeftToken, setup.sharedRightToken) = (2, 11, 12)
        func refusal(size: UInt32, hostSize: UInt32) -> ProtocolError {
            .outOfRange(what: "host size of a two-level ring of \(size) (a divisor leaving two hosts or more, each linked in shared memory)",
                        value: Int(hostSize), min: 2, max: Int(size) / 2)
        }
        assertRejects(try encodedBytes(.ringSetup(setup)), with: refusal(size: 3, hostSize: 2))
        setup.hostSize = 3
        assertRejects(try encodedBytes(.ringSetup(setup)), with: refusal(size: 3, hostSize: 3))
        (setup.size, setup.hostSize) = (4, 1)
        assertRejects(try encodedBytes(.ringSetup(setup)), with: refusal(size: 4, hostSize: 1))
        setup.hostSize = 2
        guard case .ringSetup(let decoded) = try WireMessage.decode(try frames(try encodedBytes(.ringSetup(setup))), limits: welcomedLimits) else {
            return XCTFail("not a ring setup")
        }
        XCTAssertEqual([decoded.hostSize, UInt32(decoded.sharedLeftToken), UInt32(decoded.sharedRightToken)], [2, 11, 12])
        setup.outboxSegment = ""
        assertRejects(try encodedBytes(.ringSetup(setup)), with: refusal(size: 4, hostSize: 2))
    }

    /// Parameters 7..<10 are the sample setup's slice of welcomedLimits' 10.
    func testOwnedRangePastTheParameters() throws {
        let setup = try encodedBytes(.ringSetup(try makeRingSetup()))
        let start = afterNeighbour + 9
        assertRejects(patched(setup, at: start, le64(8)), with: .outOfRange(what: "owned count", value: 3, min: 0, max: 2))
        assertRejects(patched(setup, at: start, le64(11)), with: .outOfRange(what: "owned start", value: 11, min: 0, max: 10))
        assertRejects(patched(setup, at: start, le64(.max)), with: .outOfRange(what: "owned start", value: .max, min: 0, max: 10))
        assertRejects(try encodedBytes(.ringSetup(try makeRingSetup(ownedStart: 8))),
                      with: .outOfRange(what: "owned count", value: 3, min: 0, max: 2))
        let empty = try encodedBytes(.ringSetup(try makeRingSetup(ownedStart: 10, ownedCount: 0)))
        XCTAssertNoThrow(try WireMessage.decode(try frames(empty), limits: welcomedLimits), "an empty slice at the end is a slice")
    }

    func testStateSliceRangePastTheParameters() throws {
        assertRejects(try encodedBytes(.stateSlice(try makeStateSlice(start: 11, count: 0))),
                      with: .outOfRange(what: "slice start", value: 11, min: 0, max: 10))
        assertRejects(try encodedBytes(.stateSlice(try makeStateSlice(start: 8, count: 4))),
                      with: .outOfRange(what: "slice count", value: 4, min: 0, max: 2))
        let slice = try encodedBytes(.stateSlice(try makeStateSlice()))
        assertRejects(patched(slice, at: 32, le64(.max)), with: .outOfRange(what: "slice count", value: .max, min: 0, max: 7))
    }

    func testRingChunkFieldsOutOfRange() throws {
        let chunk = try rawChunk()
        assertRejects(patched(chunk, at: 24, [3]), with: .outOfRange(what: "ring phase", value: 3, min: 0, max: 2))
        assertRejects(patched(chunk, at: 25, le32(4095)), with: .outOfRange(what: "ring round", value: 4095, min: 0, max: 4094))
        assertRejects(patched(chunk, at: 29, le32(4096)), with: .outOfRange(what: "ring chunk index", value: 4096, min: 0, max: 4095))
        assertRejects(patched(chunk, at: 33, [2]), with: .outOfRange(what: "non-finite flag", value: 2, min: 0, max: 1))
        assertRejects(patched(chunk, at: 34, [4]), with: .outOfRange(what: "chunk encoding", value: 4, min: 0, max: 3))
        assertRejects(patched(chunk, at: 35, le32(11)), with: .outOfRange(what: "value count of ring chunk", value: 11, min: 0, max: 10))
        let long = makeRingChunk(.rawInt64, valueCount: 11, values: try int64Frame(Array(repeating: 1, count: 11)))
        assertRejects(try encodedBytes(.ringChunk(long)), with: .outOfRange(what: "value count of ring chunk", value: 11, min: 0, max: 10))
    }

    /// Reduce-scatter chunks carry Int64s (raw or packed), all-gather chunks floats;
    /// the error names the encodings the phase allows.
    func testPhaseAndEncodingMustAgree() throws {
        assertRejects(patched(try floatChunk(), at: 24, [0]),
                      with: .outOfRange(what: "reduce-scatter chunk encoding", value: 2, min: 0, max: 1))
        assertRejects(patched(try rawChunk(), at: 24, [1]),
                      with: .outOfRange(what: "all-gather chunk encoding", value: 0, min: 2, max: 3))
        let packed = makeRingChunk(.packedInt64, valueCount: 1, values: try packedInt64Frame([1]))
        assertRejects(patched(try encodedBytes(.ringChunk(packed)), at: 24, [1]),
                      with: .outOfRange(what: "all-gather chunk encoding", value: 1, min: 2, max: 3))
        assertRejects(patched(try floatChunk(), at: 24, [2]),
                      with: .outOfRange(what: "value exchange chunk encoding", value: 2, min: 0, max: 0))
        let error = ProtocolError.outOfRange(what: "reduce-scatter chunk encoding", value: 2, min: 0, max: 1)
        XCTAssertEqual("\(error)", "reduce-scatter chunk encoding is 2, allowed 0...1 (1 above)")
    }

    func testRingWorkCountsOutOfRange() throws {
        assertRejects(try encodedBytes(.ringWork(try makeRingWork(batchSamples: 4))),
                      with: .outOfRange(what: "samples of ring work", value: 5, min: 0, max: 4))
        let work = try encodedBytes(.ringWork(try makeRingWork()))
        assertRejects(patched(work, at: 28, le32(0)), with: .outOfRange(what: "batch samples of ring work", value: 0, min: 1, max: 32))
        assertRejects(patched(work, at: 28, le32(33)), with: .outOfRange(what: "batch samples of ring work", value: 33, min: 1, max: 32))
        XCTAssertThrowsError(try WireMessage.ringWork(try makeRingWork(batchSamples: 0)).encode()) { error in
            XCTAssertEqual(error as? ProtocolError,
                           .outOfRange(what: "batch samples of ring work", value: 0, min: 1, max: Int(UInt32.max)))
        }
        assertRejects(try encodedBytes(.ringWork(try makeRingWork(sampleCounts: [1, 1, 1, 1, 1]))),
                      with: .outOfRange(what: "shard count of ring work", value: 5, min: 0, max: 4))
        assertRejects(patched(work, at: 40, le32(.max)),
                      with: .outOfRange(what: "shard count of ring work", value: Int(UInt32.max), min: 0, max: 4))
        assertRejects(patched(work, at: 48, le32(0)), with: .outOfRange(what: "sample count of shard 200", value: 0, min: 1, max: 8))
        assertRejects(try encodedBytes(.ringWork(try makeRingWork(sampleCounts: [9]))),
                      with: .outOfRange(what: "sample count of shard 200", value: 9, min: 1, max: 8))
    }

    func testRingDoneFieldsOutOfRange() throws {
        let done = try encodedBytes(.ringDone(sampleRingDone))
        assertRejects(patched(done, at: 24, [3]), limits: .beforeWelcome,
                      with: .outOfRange(what: "ring done status", value: 3, min: 0, max: 2))
        assertRejects(patched(done, at: 33, le32(6)), limits: .beforeWelcome,
                      with: .outOfRange(what: "correct count of ring done", value: 6, min: 0, max: 5))
        var wrong = sampleRingDone
        wrong.correct = 6
        XCTAssertThrowsError(try WireMessage.ringDone(wrong).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .outOfRange(what: "correct count of ring done", value: 6, min: 0, max: 5))
        }
    }

    /// A gradient norm is finite and not negative, and its bits are 0 when
    /// the flag says there is none: every message has one encoding.
    func testRingDoneNormOutOfRange() throws {
        let done = try encodedBytes(.ringDone(sampleRingDone))
        assertRejects(patched(done, at: 49, [2]), limits: .beforeWelcome,
                      with: .outOfRange(what: "gradient norm flag", value: 2, min: 0, max: 1))
        assertRejects(patched(done, at: 50, le64(1)), limits: .beforeWelcome,
                      with: .outOfRange(what: "gradient norm bits without a norm", value: 1, min: 0, max: 0))
        for bad in [-1.0, .infinity] {
            assertRejects(patched(patched(done, at: 49, [1]), at: 50, le64(bad.bitPattern)), limits: .beforeWelcome,
                          with: .notANorm(what: "gradient norm of ring done", value: bad))
            var wrong = sampleRingDone
            wrong.gradientNorm = bad
            XCTAssertThrowsError(try WireMessage.ringDone(wrong).encode()) { error in
                XCTAssertEqual(error as? ProtocolError, .notANorm(what: "gradient norm of ring done", value: bad))
            }
        }
        var nan = sampleRingDone
        nan.gradientNorm = .nan
        XCTAssertThrowsError(try WireMessage.ringDone(nan).encode())
    }

    /// A value exchange chunk carries exactly one 16-byte value, raw.
    func testValueExchangeChunkHoldsTwoRawWords() throws {
        let three = makeRingChunk(.rawInt64, valueCount: 3, values: try int64Frame([1, 2, 3]))
        assertRejects(patched(try encodedBytes(.ringChunk(three)), at: 24, [2]),
                      with: .outOfRange(what: "value count of value exchange chunk", value: 3, min: 2, max: 2))
        var wrong = three
        wrong.phase = .valueExchange
        XCTAssertThrowsError(try WireMessage.ringChunk(wrong).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .outOfRange(what: "value count of value exchange chunk", value: 3, min: 2, max: 2))
        }
        let packed = makeRingChunk(.packedInt64, valueCount: 2, values: try packedInt64Frame([1, 2]))
        assertRejects(patched(try encodedBytes(.ringChunk(packed)), at: 24, [2]),
                      with: .outOfRange(what: "value exchange chunk encoding", value: 1, min: 0, max: 0))
    }

    func testUnknownCollective() throws {
        let welcome = try encodedBytes(.welcome(sampleWelcome))
        // The collective byte follows the header and four UInt32s.
        assertRejects(patched(welcome, at: 24, [2]), limits: .beforeWelcome,
                      with: .outOfRange(what: "collective", value: 2, min: 0, max: 1))
    }

    // MARK: - Shapes

    func testRingKindsWithBulkFramesNeedShapes() throws {
        assertRejects(try encodedBytes(.ringSetup(try makeRingSetup())), limits: .beforeWelcome,
                      with: .shapesUnknown(kind: "ring setup"))
        assertRejects(try encodedBytes(.ringWork(try makeRingWork())), limits: .beforeWelcome,
                      with: .shapesUnknown(kind: "ring work"))
        assertRejects(try rawChunk(), limits: .beforeWelcome, with: .shapesUnknown(kind: "ring chunk"))
        assertRejects(try encodedBytes(.stateSlice(try makeStateSlice())), limits: .beforeWelcome,
                      with: .shapesUnknown(kind: "state slice"))
        // The header-only kinds need none.
        for message in [WireMessage.ringAddress(RingAddress(endpoint: "tcp://a:1")), .ringDone(sampleRingDone),
                        .stateRequest(StateRequest(generation: 1, step: 2))] {
            XCTAssertEqual(try WireMessage.decode(message.encode(), limits: .beforeWelcome).kind, message.kind)
        }
    }
}
