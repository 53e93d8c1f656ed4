import Collective
import FixedPointKernels
import XCTest

/// Every build of the C kernels this CPU can run (baseline, AVX2, AVX-512)
/// against the rounding written out in Swift with the standard library's
/// own conversions: a build that rounded one value differently would make
/// models depend on the machine.
final class FixedPointKernelTests: XCTestCase {
    private let levels = 0...Int(fixed_point_best_level())

    /// Random magnitudes over 60 binades, ties on the grid, the clamp's
    /// edges, subnormals and signed zeros; 1,001 values, so every build's
    /// vector loop also has a remainder.
    private func awkwardValues() -> [Float] {
        var state: UInt64 = 99
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        var values: [Float] = [
            0, -0.0, 1, -1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
            0x1p-33, 0x3p-33, -0x5p-33, 0x1.8p-32, 524_288, -524_288, 524_289, 3e38, -3e38,
            .greatestFiniteMagnitude,
        ]
        while values.count < 1001 {
            let unit = Float(next() % (1 << 24)) / Float(1 << 24) - 0.5
            values.append(unit * Float(sign: .plus, exponent: Int(next() % 60) - 40, significand: 1))
        }
        return values
    }

    private func reference(_ value: Float) -> Int64 {
        let limit = 2_251_799_813_685_248.0
        return Int64(max(-limit, min(limit, (Double(value) * 4_294_967_296).rounded(.toNearestOrEven))))
    }

    func testEveryBuildRoundsLikeTheReference() {
        let values = awkwardValues()
        let start = (0..<values.count).map { Int64($0) * 1_000_003 - 400_000_000 }
        for level in levels {
            for overwrite in [true, false] {
                var sum = start
                let finite = values.withUnsafeBufferPointer { g in
                    sum.withUnsafeMutableBufferPointer {
                        fixed_point_round_add(Int32(level), g.baseAddress!, $0.baseAddress!, g.count, overwrite ? 1 : 0)
                    }
                }
                XCTAssertEqual(finite, 1, "level \(level)")
                for i in values.indices {
                    let expected = (overwrite ? 0 : start[i]) &+ reference(values[i])
                    XCTAssertEqual(sum[i], expected, "level \(level), overwrite \(overwrite), value \(values[i])")
                }
            }
        }
    }

    func testEveryBuildFlagsNonFiniteValuesWherever() {
        for level in levels {
            for position in [0, 7, 8, 16, 999] {
                var values = [Float](repeating: 1, count: 1000)
                values[position] = position.isMultiple(of: 2) ? .nan : -.infinity
                var sum = [Int64](repeating: 0, count: values.count)
                let finite = values.withUnsafeBufferPointer { g in
                    sum.withUnsafeMutableBufferPointer {
                        fixed_point_round_add(Int32(level), g.baseAddress!, $0.baseAddress!, g.count, 0)
                    }
                }
                XCTAssertEqual(finite, 0, "level \(level), position \(position)")
            }
        }
    }

    func testEveryBuildAveragesLikeTheReference() {
        let edges: [Int64] = [0, 1, -1, 1 << 40, -(1 << 51), (1 << 62) - 12345, -(1 << 62) + 999,
                              0x1234_5678_9ABC_DEF0 >> 2, .max, .min + 1]
        let spread: [Int64] = (0..<993).map { (i: Int) -> Int64 in (Int64(i) &* 0x1E37_79B9_7F4A_7C15) >> 3 }
        let sums = edges + spread
        // 128 · 2^32 is a power of two (multiplied by its inverse), 96 · 2^32 is not (divided).
        for samples in [128, 96, 3, 1] {
            let divisor = Double(samples) * 4_294_967_296
            for level in levels {
                var mean = [Float](repeating: .nan, count: sums.count)
                sums.withUnsafeBufferPointer { s in
                    mean.withUnsafeMutableBufferPointer {
                        fixed_point_average(Int32(level), s.baseAddress!, $0.baseAddress!, s.count, divisor)
                    }
                }
                for (n, m) in zip(sums, mean) {
                    XCTAssertEqual(m, Float(Double(n) / divisor), "level \(level), samples \(samples), sum \(n)")
                }
            }
        }
    }

    /// The grouped pass over L1-sized blocks must give shard-by-shard's bits.
    func testGroupedRoundingEqualsShardByShard() {
        let length = 5000  // not a multiple of the block
        var state: UInt64 = 7
        let shards: [[Float]] = (0..<4).map { _ in
            (0..<length).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return (Float(state >> 40) / Float(1 << 24) - 0.5) * 1e-2
            }
        }
        var oneByOne = [Int64](repeating: 0, count: length)
        for shard in shards {
            shard.withUnsafeBufferPointer { g in oneByOne.withUnsafeMutableBufferPointer { _ = FixedPoint.accumulate(g, into: $0) } }
        }
        let buffers = shards.map { shard -> UnsafeMutableBufferPointer<Float> in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: length)
            _ = buffer.initialize(from: shard)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var grouped = [Int64](repeating: 12345, count: length)
        let finite = grouped.withUnsafeMutableBufferPointer { FixedPoint.add(buffers[...], into: $0, overwrite: true) }
        XCTAssertTrue(finite)
        XCTAssertEqual(grouped, oneByOne)
    }
}
