import Wire
import XCTest

final class ProtocolRejectionTests: XCTestCase {
    // Header: magic, version, kind, reserved.

    func testTruncatedHeader() {
        assertRejects([[0x44, 0x50, 0x54]], with: .truncated(what: "header", needed: 8, available: 3))
        let version = [UInt8(wireProtocolVersion & 0xff), UInt8(wireProtocolVersion >> 8)]
        assertRejects([[0x44, 0x50, 0x54, 0x52] + version + [6]], with: .truncated(what: "reserved byte in header", needed: 8, available: 7))
        assertRejects([], with: .wrongFrameCount(kind: "any", expected: 1, actual: 0))
    }

    func testWrongMagic() throws {
        let parts = patched(try encodedBytes(.heartbeat), at: 0, Array("DPTX".utf8))
        assertRejects(parts, with: .badMagic(found: Array("DPTX".utf8)))
    }

    func testWrongVersionIsRejectedBeforeAnythingElse() throws {
        let hello = patched(try encodedBytes(.hello(Hello(pid: 1, workerName: "w"))), at: 4, [1, 0])
        assertRejects(hello, with: .versionMismatch(theirs: 1, ours: wireProtocolVersion))
        // Even a kind this version does not know, or garbage after the header, reports the version.
        let unknown = patched(patched(try encodedBytes(.heartbeat), at: 4, [0, 1]), at: 6, [200, 9])
        assertRejects(unknown + [[1, 2, 3]], with: .versionMismatch(theirs: 256, ours: wireProtocolVersion))
    }

    func testRefuseDecodesAtAnyVersion() throws {
        var parts = patched(try encodedBytes(.refuse(reason: "too old")), at: 4, [0xff, 0x7f])
        parts[0] += [1, 2, 3]  // a later version may append fields
        parts.append([9, 9])  // or frames
        let decoded = try WireMessage.decode(try frames(parts), limits: .beforeWelcome)
        guard case .refuse(let reason) = decoded else { return XCTFail("not a refuse: \(decoded)") }
        XCTAssertEqual(reason, "too old")
    }

    func testUnknownKindAndReservedByte() throws {
        assertRejects(patched(try encodedBytes(.heartbeat), at: 6, [99]), with: .unknownKind(99))
        assertRejects(patched(try encodedBytes(.heartbeat), at: 7, [1]), with: .reservedByte(1))
    }

    // Frame and field sizes.

    func testTruncatedField() throws {
        var parts = try encodedBytes(.hello(Hello(pid: 7, workerName: "worker")))
        parts[0].removeLast(2)
        assertRejects(parts, with: .truncated(what: "worker name in hello header", needed: 20, available: 18))
        assertRejects([Array(parts[0].prefix(10))], with: .truncated(what: "pid in hello header", needed: 12, available: 10))
    }

    func testOversizedHeaderFrame() throws {
        var parts = try encodedBytes(.shutdown(reason: "bye"))
        parts[0].append(0)
        assertRejects(parts, with: .oversized(what: "shutdown header", size: 14, limit: 13))
        var work = try encodedBytes(.work(try makeWork()))
        work[0] += [0, 0, 0, 0, 0, 0, 0, 0]
        assertRejects(work, with: .oversized(what: "work header", size: 53, limit: 45))
    }

    func testOversizedString() throws {
        let long = String(repeating: "x", count: WireLimits.maxStringBytes + 1)
        XCTAssertThrowsError(try WireMessage.shutdown(reason: long).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .oversized(what: "shutdown reason", size: 1025, limit: 1024))
        }
        let parts = patched(try encodedBytes(.shutdown(reason: "bye")), at: 8, [0x01, 0x04])
        assertRejects(parts, with: .oversized(what: "reason in shutdown header", size: 1025, limit: 1024))
    }

    func testInvalidUTF8() throws {
        let parts = patched(try encodedBytes(.shutdown(reason: "bye")), at: 10, [0xff])
        assertRejects(parts, with: .invalidUTF8(what: "reason in shutdown header"))
    }

    func testWrongFrameCount() throws {
        let work = try encodedBytes(.work(try makeWork()))
        assertRejects(Array(work.prefix(3)), with: .wrongFrameCount(kind: "work", expected: 4, actual: 3))
        assertRejects(try encodedBytes(.heartbeat) + [[]], with: .wrongFrameCount(kind: "heartbeat", expected: 1, actual: 2))
        let gradient = try encodedBytes(.gradient(try makeGradient()))
        assertRejects(gradient + [[1]], with: .wrongFrameCount(kind: "gradient", expected: 2, actual: 3))
    }

    func testTruncatedBulkFrame() throws {
        var work = try encodedBytes(.work(try makeWork()))
        work[1].removeLast(3)
        assertRejects(work, with: .shapeMismatch(what: "weights frame of work (10 floats)", expected: 40, actual: 37))
    }

    // Shapes against the header and the limits.

    func testGradientOfTheWrongLength() throws {
        let parts = try encodedBytes(.gradient(try makeGradient(parameterCount: 11)))
        assertRejects(parts, with: .shapeMismatch(what: "gradient frame (10 Int64s)", expected: 80, actual: 88))
    }

    func testPixelsAndLabelsMustMatchSampleCounts() throws {
        var work = try encodedBytes(.work(try makeWork()))
        work[2].append(0)
        assertRejects(work, with: .shapeMismatch(what: "pixels frame of work (5 samples × 4)", expected: 20, actual: 21))
        // The same pixels read as a different input size no longer fit either.
        let other = DecodingLimits(parameterCount: 10, inputSize: 5, shardSize: 8, maxShards: 4)
        assertRejects(try encodedBytes(.work(try makeWork())), limits: other,
                      with: .shapeMismatch(what: "pixels frame of work (5 samples × 5)", expected: 25, actual: 20))
        var labels = try encodedBytes(.work(try makeWork()))
        labels[3].removeLast()
        assertRejects(labels, with: .shapeMismatch(what: "labels frame of work (5 samples)", expected: 5, actual: 4))
    }

    /// The weights' encoding is checked, and each encoding's frame against it.
    func testWorkWeightsMustMatchTheirEncoding() throws {
        let raw = try encodedBytes(.work(try makeWork()))
        assertRejects(patched(raw, at: 16, [3]), with: .outOfRange(what: "weights encoding of work", value: 3, min: 0, max: 2))
        // 40 raw bytes read as held weights, which have none.
        assertRejects(patched(raw, at: 16, [2]), with: .shapeMismatch(what: "weights frame of work (held)", expected: 0, actual: 40))
        // 40 raw bytes (0, 0.25, 0.5, ...) read as packed steps: one block of width 0, so a header of
        // 8 bytes whose padding holds the second float's bytes 00 00 80 3E.
        assertRejects(patched(raw, at: 16, [1]),
                      with: .outOfRange(what: "weight steps of work padding byte 6", value: 0x80, min: 0, max: 0))
    }

    func testSampleCountOutOfRange() throws {
        let parts = try encodedBytes(.work(try makeWork()))
        // First shard's sample count sits after the header, the step, the weights' encoding and base step,
        // the shard count and its id: 8 + 8 + 1 + 8 + 4 + 4.
        assertRejects(patched(parts, at: 33, [0, 0, 0, 0]),
                      with: .outOfRange(what: "sample count of shard 100", value: 0, min: 1, max: 8))
        assertRejects(try encodedBytes(.work(try makeWork(sampleCounts: [9]))),
                      with: .outOfRange(what: "sample count of shard 100", value: 9, min: 1, max: 8))
        XCTAssertThrowsError(try WireMessage.work(try makeWork(sampleCounts: [0, 2])).encode())
    }

    func testTooManyShards() throws {
        assertRejects(try encodedBytes(.work(try makeWork(sampleCounts: [1, 1, 1, 1, 1]))),
                      with: .outOfRange(what: "shard count of work", value: 5, min: 1, max: 4))
        assertRejects(try encodedBytes(.gradient(try makeGradient(shardIDs: [1, 2, 3, 4, 5]))),
                      with: .outOfRange(what: "shard count of gradient", value: 5, min: 1, max: 4))
        // A huge declared count is refused before anything is allocated for it.
        let huge = patched(try encodedBytes(.work(try makeWork())), at: 25, [0xff, 0xff, 0xff, 0xff])
        assertRejects(huge, with: .outOfRange(what: "shard count of work", value: Int(UInt32.max), min: 1, max: 4))
        let roomy = DecodingLimits(parameterCount: 10, inputSize: 4, shardSize: 8, maxShards: Int(UInt32.max))
        assertRejects(huge, limits: roomy, with: .truncated(what: "shards in work header", needed: 34_359_738_389, available: 45))
    }

    func testGradientCountsAreChecked() throws {
        assertRejects(try encodedBytes(.gradient(try makeGradient(samples: 17))),
                      with: .outOfRange(what: "sample count of gradient", value: 17, min: 1, max: 16))
        var wrongCorrect = try makeGradient()
        wrongCorrect.correct = 6
        XCTAssertThrowsError(try WireMessage.gradient(wrongCorrect).encode())
    }

    func testLayerListTooLongOrBadSizes() throws {
        var welcome = sampleWelcome
        welcome.layerSizes = Array(repeating: 4, count: 65)
        XCTAssertThrowsError(try WireMessage.welcome(welcome).encode()) { error in
            XCTAssertEqual(error as? ProtocolError, .outOfRange(what: "layer count", value: 65, min: 2, max: 64))
        }
        // Declare 65 layers in a valid welcome's header: the count is refused before the sizes are read.
        let parts = try encodedBytes(.welcome(sampleWelcome))
        let countOffset = parts[0].count - 3 * 4 - 2
        assertRejects(patched(parts, at: countOffset, [65, 0]), limits: .beforeWelcome,
                      with: .outOfRange(what: "layer count", value: 65, min: 2, max: 64))
        assertRejects(patched(parts, at: countOffset + 2, [0, 0, 0, 0]), limits: .beforeWelcome,
                      with: .outOfRange(what: "layer 0 size", value: 0, min: 1, max: 1 << 20))
        welcome.layerSizes = [4, (1 << 20) + 1]
        XCTAssertThrowsError(try WireMessage.welcome(welcome).encode())
    }

    func testWorkAndGradientNeedShapes() throws {
        assertRejects(try encodedBytes(.work(try makeWork())), limits: .beforeWelcome, with: .shapesUnknown(kind: "work"))
        assertRejects(try encodedBytes(.gradient(try makeGradient())), limits: .beforeWelcome,
                      with: .shapesUnknown(kind: "gradient"))
    }

    func testErrorDescriptionsSayHowMuch() {
        XCTAssertEqual("\(ProtocolError.versionMismatch(theirs: 2, ours: 1))",
                       "protocol version mismatch: peer speaks version 2, this build speaks 1")
        XCTAssertEqual("\(ProtocolError.shapeMismatch(what: "gradient frame", expected: 80, actual: 72))",
                       "gradient frame: expected 80 bytes, got 72 (8 too few)")
        XCTAssertEqual("\(ProtocolError.outOfRange(what: "shard count", value: 9, min: 1, max: 4))",
                       "shard count is 9, allowed 1...4 (5 above)")
        // A hostile value a whole Int's range away (the fuzz benchmark once made the coordinator trap here).
        XCTAssertEqual("\(ProtocolError.outOfRange(what: "count", value: Int.max, min: -10, max: -1))",
                       "count is \(Int.max), allowed -10...-1 (9223372036854775808 above)")
        XCTAssertEqual("\(ProtocolError.outOfRange(what: "start", value: Int.min, min: 1, max: 4))",
                       "start is \(Int.min), allowed 1...4 (9223372036854775809 below)")
    }
}
