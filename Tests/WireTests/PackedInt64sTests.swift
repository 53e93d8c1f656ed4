import Wire
import XCTest

final class PackedInt64sTests: XCTestCase {
    private func gradient(_ frame: ZMQMessage) -> Gradient {
        Gradient(step: 1, lossSumFixedPoint: 0, correct: 0, sampleCount: 1,
                 computeNanoseconds: 0, shardIDs: [0], gradient: frame, encoding: .packed)
    }

    private func decoded(_ frame: ZMQMessage, count: Int) throws -> Gradient {
        let limits = DecodingLimits(parameterCount: count, inputSize: 1, shardSize: 1, maxShards: 1)
        guard case .gradient(let message) = try WireMessage.decode(try WireMessage.gradient(gradient(frame)).encode(), limits: limits)
        else { throw XCTSkip("not a gradient") }
        return message
    }

    func testEveryWidthBoundaryRoundTripsExactly() throws {
        let edges: [Int64] = [0, 1, -1, Int64(Int32.max), Int64(Int32.min), Int64(Int32.max) + 1, Int64(Int32.min) - 1,
                              Int64.max, Int64.min, 1 << 40, -(1 << 40)]
        for count in [1, 10, 255, 256, 257, 1000, 535_818 % 4096] {
            var values = [Int64](repeating: 0, count: count)
            for i in 0..<count where i % 3 != 0 { values[i] = edges[(i * 7) % edges.count] }
            let message = try decoded(try packedInt64Frame(values), count: count)
            var out = [Int64](repeating: 99, count: count)
            out.withUnsafeMutableBufferPointer { message.unpack(into: $0, overwrite: true) }
            XCTAssertEqual(out, values, "\(count) values")
        }
    }

    func testUnpackAddsOntoASumAndOverwriteClearsZeroBlocks() throws {
        var values = [Int64](repeating: 0, count: 600)
        for i in 300..<600 { values[i] = Int64(i) - 450 }
        let message = try decoded(try packedInt64Frame(values), count: 600)
        var sum = [Int64](repeating: 5, count: 600)
        sum.withUnsafeMutableBufferPointer { message.unpack(into: $0, overwrite: false) }
        XCTAssertEqual(sum, values.map { $0 + 5 })
        sum.withUnsafeMutableBufferPointer { message.unpack(into: $0, overwrite: true) }
        XCTAssertEqual(sum, values, "an all-zero block must overwrite stale values too")
    }

    func testSmallValuesTakeHalfTheBytesAndZerosNone() throws {
        let small = (0..<4096).map { Int64($0 % 2 == 0 ? $0 : -$0) << 16 }
        XCTAssertEqual(try packedInt64Frame(small).count, 16 + 4096 * 4)
        XCTAssertEqual(try packedInt64Frame([Int64](repeating: 0, count: 4096)).count, 16)
        XCTAssertEqual(try packedInt64Frame([Int64](repeating: 1 << 40, count: 4096)).count, 16 + 4096 * 6)
        XCTAssertEqual(try packedInt64Frame([Int64](repeating: Int64.min, count: 4096)).count, 16 + 4096 * 8)
    }

    /// Every width from 1 to 8 bytes: each block takes the fewest bytes that
    /// hold its largest value and its most negative one, and reads back exactly.
    func testEveryWidthIsTheNarrowestAndExact() throws {
        var random = SystemRandomNumberGenerator()
        for width in 1...8 {
            let top = width == 8 ? Int64.max : (Int64(1) << (8 * width - 1)) - 1
            let bottom = width == 8 ? Int64.min : -(Int64(1) << (8 * width - 1))
            // Two blocks: one with the width's extremes, one of random values within it; then a short tail.
            var values = [top, bottom] + (0..<254).map { _ in Int64.random(in: bottom...top, using: &random) }
            values += (0..<300).map { _ in Int64.random(in: bottom...top, using: &random) }
            let frame = try packedInt64Frame(values)
            XCTAssertEqual(Array(frame.bytes.prefix(3)), [UInt8(width), UInt8(width), UInt8(width)], "width \(width)")
            XCTAssertEqual(frame.count, 8 + (556 * width + 7) / 8 * 8, "width \(width)")
            if width > 1 {
                // One past the narrower width's range needs this one.
                let narrower = (Int64(1) << (8 * (width - 1) - 1))
                XCTAssertEqual(try packedInt64Frame([narrower]).bytes.first, UInt8(width), "\(narrower)")
                XCTAssertEqual(try packedInt64Frame([-narrower - 1]).bytes.first, UInt8(width), "\(-narrower - 1)")
                XCTAssertEqual(try packedInt64Frame([-narrower]).bytes.first, UInt8(width - 1), "\(-narrower)")
            }
            let message = try decoded(frame, count: values.count)
            for overwrite in [true, false] {
                var sum = [Int64](repeating: overwrite ? 99 : 5, count: values.count)
                sum.withUnsafeMutableBufferPointer { message.unpack(into: $0, overwrite: overwrite) }
                XCTAssertEqual(sum, values.map { overwrite ? $0 : $0 &+ 5 }, "width \(width), overwrite \(overwrite)")
            }
        }
    }

    func testMalformedStructuresAreRejected() throws {
        let limits = DecodingLimits(parameterCount: 300, inputSize: 1, shardSize: 1, maxShards: 1)
        let good = try WireMessage.gradient(gradient(try packedInt64Frame((0..<300).map { Int64($0) }))).encode()
        XCTAssertNoThrow(try WireMessage.decode(good, limits: limits))
        func mutated(_ change: (inout [UInt8]) -> Void) throws -> [ZMQMessage] {
            var bytes = good[1].bytes
            change(&bytes)
            return [good[0], try ZMQMessage(copying: bytes)]
        }
        let cases: [(String, [ZMQMessage])] = [
            ("width 9", try mutated { $0[0] = 9 }),
            ("a wider width claimed", try mutated { $0[0] = 3 }),
            ("nonzero padding", try mutated { $0[5] = 1 }),
            ("one word short", try mutated { $0.removeLast(8) }),
            ("one word long", try mutated { $0 += [UInt8](repeating: 0, count: 8) }),
            ("narrower width claimed", try mutated { $0[1] = 0 }),
            ("no widths at all", try mutated { $0 = [0, 0, 0] }),
        ]
        for (name, frames) in cases {
            XCTAssertThrowsError(try WireMessage.decode(frames, limits: limits), name) { error in
                XCTAssertTrue(error is ProtocolError, "\(name): \(error)")
            }
        }
    }

    /// The one-pass packer writes exactly the bytes of measure then pack.
    func testOnePassPackingGivesTheTwoPassBytes() throws {
        var random = SystemRandomNumberGenerator()
        for count in [1, 255, 256, 257, 1000, 4096 + 7] {
            let values: [Int64] = (0..<count).map { index in
                switch (index / 256) % 3 {
                case 0: return 0
                case 1: return Int64.random(in: -(1 << 31)...((1 << 31) - 1), using: &random)
                default: return Int64.random(in: Int64.min...Int64.max, using: &random)
                }
            }
            let twoPass = try packedInt64Frame(values).bytes
            var buffer = [UInt8](repeating: 0xEE, count: PackedInt64s.largestPackedSize(count: count))
            let size = values.withUnsafeBufferPointer { source in
                buffer.withUnsafeMutableBytes { PackedInt64s.pack(source, into: $0) }
            }
            XCTAssertEqual(Array(buffer.prefix(size)), twoPass, "\(count) values")
        }
    }
}
