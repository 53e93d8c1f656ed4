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

    func testSmallValuesTakeFewBitsAndZerosNone() throws {
        // 256 blocks of 16 give 256 width bytes; 2^15 < |value| < 2^16 zigzags into 17 bits.
        let small: [Int64] = (0..<4096).map { (index: Int) -> Int64 in
            index % 2 == 0 ? Int64(40_000 + index) : -Int64(40_000 + index)
        }
        XCTAssertEqual(try packedInt64Frame(small).count, 256 + 4096 * 17 / 8)
        XCTAssertEqual(try packedInt64Frame([Int64](repeating: 0, count: 4096)).count, 256)
        XCTAssertEqual(try packedInt64Frame([Int64](repeating: 1 << 40, count: 4096)).count, 256 + 4096 * 42 / 8)
        XCTAssertEqual(try packedInt64Frame([Int64](repeating: Int64.min, count: 4096)).count, 256 + 4096 * 8)
    }

    /// Every width from 1 to 64 bits: each block takes the fewest bits that
    /// hold its largest value and its most negative one, and reads back exactly.
    func testEveryWidthIsTheNarrowestAndExact() throws {
        var random = SystemRandomNumberGenerator()
        for width in 1...64 {
            // A zigzagged value of `width` bits: -2^(width-1) ... 2^(width-1) - 1.
            let top = width == 64 ? Int64.max : (Int64(1) << (width - 1)) - 1
            let bottom = width == 64 ? Int64.min : -(Int64(1) << (width - 1))
            // Two blocks: one with the width's extremes, one of random values within it; then a short tail.
            var values = [top, bottom] + (0..<14).map { _ in Int64.random(in: bottom...top, using: &random) }
            values += (0..<16 + 7).map { _ in Int64.random(in: bottom...top, using: &random) }
            values[20] = bottom
            values[35] = top
            let frame = try packedInt64Frame(values)
            XCTAssertEqual(Array(frame.bytes.prefix(3)), [UInt8(width), UInt8(width), UInt8(width)], "width \(width)")
            XCTAssertEqual(frame.count, 8 + (2 * 2 * width + (7 * width + 7) / 8 + 7) / 8 * 8, "width \(width)")
            if width > 1 {
                // One past the narrower width's range needs this one.
                let narrower = Int64(1) << (width - 2)
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

    /// Blocks of different widths side by side: each starts on the byte after
    /// the one before ends, whatever its width, and the widths are per block.
    func testMixedWidthsFollowOneAnother() throws {
        var random = SystemRandomNumberGenerator()
        for count in [1, 15, 16, 17, 100, 1000] {
            let values: [Int64] = (0..<count).map { index in
                let width = (index / 16 * 13) % 65
                guard width > 0 else { return 0 }
                let top = width == 64 ? Int64.max : (Int64(1) << (width - 1)) - 1
                return Int64.random(in: (width == 64 ? Int64.min : -top - 1)...top, using: &random)
            }
            let message = try decoded(try packedInt64Frame(values), count: count)
            var out = [Int64](repeating: 7, count: count)
            out.withUnsafeMutableBufferPointer { message.unpack(into: $0, overwrite: true) }
            XCTAssertEqual(out, values, "\(count) values")
        }
    }

    /// Weights sent as steps from the weights before: every bit pattern comes
    /// back exactly (both zeros, infinities, NaNs, subnormals, a sign change),
    /// and small steps take few bytes.
    func testWeightStepsRebuildEveryFloatExactly() throws {
        var random = SystemRandomNumberGenerator()
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, -1, Float(bitPattern: 0x7FC0_1234)]
        var previous = (0..<1000).map { _ in Float.random(in: -0.1...0.1, using: &random) }
        var next = previous.map { $0 - 0.001 * Float.random(in: -1...1, using: &random) }
        for (index, value) in special.enumerated() {
            previous[index] = value
            next[index] = special[(index * 5 + 3) % special.count]
            previous[500 + index] = special[(index * 7 + 1) % special.count]
            next[500 + index] = value
        }
        var buffer = [UInt8](repeating: 0xEE, count: PackedInt64s.largestPackedSize(count: next.count))
        let size = next.withUnsafeBufferPointer { next in
            previous.withUnsafeBufferPointer { previous in
                buffer.withUnsafeMutableBytes { PackedInt64s.packWeightSteps(next, from: previous, into: $0) }
            }
        }
        let frame = try ZMQMessage(copying: Array(buffer.prefix(size)))
        let limits = DecodingLimits(parameterCount: next.count, inputSize: 1, shardSize: 1, maxShards: 1)
        let chunk = RingChunk(generation: 1, step: 1, phase: .allGather, round: 0, chunk: 0, nonFinite: false,
                              encoding: .weightSteps, valueCount: UInt32(next.count), values: frame)
        guard case .ringChunk(let received) = try WireMessage.decode(try WireMessage.ringChunk(chunk).encode(), limits: limits)
        else { return XCTFail("not a ring chunk") }
        var weights = previous
        weights.withUnsafeMutableBufferPointer { received.writeWeights(into: $0) }
        XCTAssertEqual(weights.map(\.bitPattern), next.map(\.bitPattern))
        // Steps of about 2^-10 of a weight take about 15 bits, not 32: the
        // blocks holding the special values are wide, the others narrow.
        XCTAssertLessThan(size, next.count * 3, "\(size) bytes for \(next.count) weights")
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
            ("width 65", try mutated { $0[0] = 65 }),
            ("a wider width claimed", try mutated { $0[0] += 8 }),
            ("one word short", try mutated { $0.removeLast(8) }),
            ("one word long", try mutated { $0 += [UInt8](repeating: 0, count: 8) }),
            ("narrower width claimed", try mutated { $0[1] = 0 }),
            ("no widths at all", try mutated { $0 = [0, 0, 0] }),
            ("nonzero padding after the 19 widths", try mutated { $0[21] = 1 }),
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
        for count in [1, 15, 16, 17, 255, 256, 257, 1000, 4096 + 7] {
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
