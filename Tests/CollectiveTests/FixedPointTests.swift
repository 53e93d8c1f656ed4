import Collective
import XCTest

final class FixedPointTests: XCTestCase {
    /// Floats are chosen so that Float sums really do depend on order,
    /// which is exactly what fixed-point accumulation must not.
    private func shardGradients(shards: Int, length: Int) -> [[Float]] {
        var state: UInt64 = 12345
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let unit = Float(state >> 40) / Float(1 << 24)
            return (unit - 0.5) * Float(1 << Int(state % 20)) * 1e-3
        }
        return (0..<shards).map { _ in (0..<length).map { _ in next() } }
    }

    private func fixedSum(_ shards: [[Float]], groupedBy groups: [[Int]]) -> [Int64] {
        let length = shards[0].count
        var total = [Int64](repeating: 0, count: length)
        for group in groups {
            var partial = [Int64](repeating: 0, count: length)
            for shard in group {
                shards[shard].withUnsafeBufferPointer { g in
                    partial.withUnsafeMutableBufferPointer { _ = FixedPoint.accumulate(g, into: $0) }
                }
            }
            for i in 0..<length { total[i] &+= partial[i] }
        }
        return total
    }

    func testSumDoesNotDependOnGroupingOrOrder() {
        let shards = shardGradients(shards: 12, length: 1000)
        let one = fixedSum(shards, groupedBy: [Array(0..<12)])
        let three = fixedSum(shards, groupedBy: [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]])
        let reversed = fixedSum(shards, groupedBy: [[11, 10, 9, 8, 7], [6, 5, 4], [3, 2, 1, 0]])
        XCTAssertEqual(one, three)
        XCTAssertEqual(one, reversed)

        // The same data summed in Float does depend on order: the test would
        // be meaningless if it did not.
        let forward = (0..<1000).map { i in shards.reduce(Float(0)) { $0 + $1[i] } }
        let backward = (0..<1000).map { i in shards.reversed().reduce(Float(0)) { $0 + $1[i] } }
        XCTAssertNotEqual(forward, backward)
    }

    func testAverageIsCloseToTheDoubleMean() {
        let shards = shardGradients(shards: 4, length: 500)
        let sum = fixedSum(shards, groupedBy: [[0, 1, 2, 3]])
        var mean = [Float](repeating: 0, count: 500)
        sum.withUnsafeBufferPointer { s in
            mean.withUnsafeMutableBufferPointer { FixedPoint.average(s, sampleCount: 128, into: $0) }
        }
        for i in 0..<500 {
            let exact = shards.reduce(0.0) { $0 + Double($1[i]) } / 128
            XCTAssertEqual(Double(mean[i]), exact, accuracy: abs(exact) * 1e-6 + 4 * pow(2, -32))
        }
    }

    func testNonFiniteGradientIsReportedAndDoesNotTrap() {
        var sum = [Int64](repeating: 0, count: 3)
        let bad: [Float] = [1, .nan, -.infinity]
        let finite = bad.withUnsafeBufferPointer { g in
            sum.withUnsafeMutableBufferPointer { FixedPoint.accumulate(g, into: $0) }
        }
        XCTAssertFalse(finite)
        XCTAssertEqual(sum[0], 1 << 32)
        let good: [Float] = [1, 2, 3]
        XCTAssertTrue(good.withUnsafeBufferPointer { g in
            sum.withUnsafeMutableBufferPointer { FixedPoint.accumulate(g, into: $0) }
        })
    }

    func testHugeValuesSaturateSoManyShardsCannotOverflow() {
        var sum = [Int64](repeating: 0, count: 1)
        let huge: [Float] = [3e38]
        for _ in 0..<FixedPoint.maxShardsPerSum {
            huge.withUnsafeBufferPointer { g in
                sum.withUnsafeMutableBufferPointer { _ = FixedPoint.accumulate(g, into: $0) }
            }
        }
        XCTAssertGreaterThan(sum[0], 0, "wrapped around")
    }

    func testLossRoundTripsOnTheGrid() {
        XCTAssertEqual(FixedPoint.decode(loss: FixedPoint.encode(loss: 12.5)), 12.5)
        XCTAssertTrue(FixedPoint.decode(loss: FixedPoint.encode(loss: .nan)).isNaN)
    }
}

final class FixedPointConversionTests: XCTestCase {
    /// The vectorisable conversions must agree with the obvious scalar ones.
    func testAccumulateRoundsToNearestEvenLikeTheScalarConversion() {
        let values: [Float] = [0, 1, -1, 0.5, -0.5, 1e-10, -3.7e-9, 123.456, -98765.4, 5e5, -5e5, 1e6, -1e6, .leastNonzeroMagnitude]
        var sum = [Int64](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { g in sum.withUnsafeMutableBufferPointer { _ = FixedPoint.accumulate(g, into: $0) } }
        for (value, fixed) in zip(values, sum) {
            let limit = 2_251_799_813_685_248.0
            let expected = Int64(max(-limit, min(limit, (Double(value) * 4_294_967_296).rounded(.toNearestOrEven))))
            XCTAssertEqual(fixed, expected, "\(value)")
        }
    }

    func testAverageConvertsAnyInt64LikeDouble() {
        let sums: [Int64] = [0, 1, -1, 1 << 40, -(1 << 51), (1 << 62) - 12345, -(1 << 62) + 999, 0x1234_5678_9ABC_DEF0 >> 2]
        var mean = [Float](repeating: 0, count: sums.count)
        sums.withUnsafeBufferPointer { s in mean.withUnsafeMutableBufferPointer { FixedPoint.average(s, sampleCount: 3, into: $0) } }
        for (n, m) in zip(sums, mean) {
            XCTAssertEqual(m, Float(Double(n) / (3 * 4_294_967_296)), "\(n)")
        }
    }
}
