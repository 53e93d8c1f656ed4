import Collective
import XCTest

/// The exact squared norm --clip-norm scales by, against squares worked out
/// by hand and against the L2 norm computed independently in Double.
final class SquaredNormTests: XCTestCase {
    private func squaredNorm(_ sums: [Int64]) -> SquaredNorm {
        sums.withUnsafeBufferPointer { SquaredNorm(of: $0) }
    }

    func testSmallSumsGiveTheirSquares() {
        let total = squaredNorm([3, -4])
        XCTAssertEqual(total, SquaredNorm(high: 0, low: 25))
        XCTAssertEqual(total.doubleValue, 25)
        // Sums of 3 and -4 on the 2^-32 grid over 1 and 2 samples: means of norm 5 · 2^-32 and half that.
        XCTAssertEqual(total.norm(sampleCount: 1), 0x1p-32 * 5)
        XCTAssertEqual(total.norm(sampleCount: 2), 0x1p-32 * 2.5)
        XCTAssertEqual(squaredNorm([]), .zero)
    }

    /// A gradient summed over 7 samples, rounded onto the grid as workers
    /// do: the norm is that of the mean gradient, ‖g‖ / 7, in Double.
    func testNormIsTheMeanGradientsL2Norm() {
        var state: UInt64 = 99
        let summed: [Float] = (0..<1003).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) - 0.5) * 14
        }
        var sums = [Int64](repeating: 0, count: summed.count)
        summed.withUnsafeBufferPointer { g in sums.withUnsafeMutableBufferPointer { _ = FixedPoint.store(g, into: $0) } }
        let expected = summed.map { Double($0) * Double($0) }.reduce(0, +).squareRoot() / 7
        XCTAssertEqual(squaredNorm(sums).norm(sampleCount: 7), expected, accuracy: 1e-12 * expected)
    }

    /// What makes the ring's norm train's: any split of the sums into parts,
    /// added in any order, gives the same total.
    func testTotalDoesNotDependOnHowTheSumsAreSplit() {
        var state: UInt64 = 7
        let sums: [Int64] = (0..<5000).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int64(bitPattern: state) >> 13  // up to ±2^50
        }
        let whole = squaredNorm(sums)
        for size in 1...8 {
            let partition = RingPartition(parameterCount: sums.count, size: size)
            let parts = (0..<size).map { squaredNorm(Array(sums[partition.chunk($0)])) }
            XCTAssertEqual(parts.reversed().reduce(SquaredNorm.zero) { $0.adding($1) }, whole, "\(size) parts")
        }
        let reference = sums.map { Double($0) * Double($0) }.reduce(0, +)
        XCTAssertEqual(whole.doubleValue, reference, accuracy: 1e-12 * reference)
        XCTAssertGreaterThan(whole.high, 0, "the test means to need the high word")
    }

    /// The largest sums square exactly into the high word.
    func testLargestSumsAreExact() {
        XCTAssertEqual(squaredNorm([.min]), SquaredNorm(high: 1 << 62, low: 0))
        XCTAssertEqual(squaredNorm([1 << 62, -(1 << 62), 1 << 62]), SquaredNorm(high: 3 << 60, low: 0))
        // (2^63 - 1)^2 = 2^126 - 2^64 + 1.
        XCTAssertEqual(squaredNorm([.max]), SquaredNorm(high: (1 << 62) - 1, low: 1))
        XCTAssertEqual(squaredNorm([1 << 62, -(1 << 62), 1 << 62]).doubleValue, 0x1p124 * 3)
    }

    /// The total is rounded once to the nearest Double, ties to even, with
    /// every bit below the top 64 counted.
    func testDoubleValueIsRoundedOnce() {
        // 2^64 + 2^11 is half-way between 2^64 and 2^64 + 2^12: the even one.
        XCTAssertEqual(SquaredNorm(high: 1, low: 1 << 11).doubleValue, 0x1p64)
        XCTAssertEqual(SquaredNorm(high: 1, low: (1 << 11) + 1).doubleValue, 0x1p64 + 0x1p12)
        XCTAssertEqual(SquaredNorm(high: 1, low: 3 << 11).doubleValue, 0x1p64 + 0x1p13)
        // Half an ulp in the top word; only the low word says it is more than half.
        let half: UInt64 = 1 << 63 | 1 << 10
        XCTAssertEqual(SquaredNorm(high: half, low: 0).doubleValue, 0x1p127)
        XCTAssertEqual(SquaredNorm(high: half, low: 1).doubleValue, 0x1p127 + 0x1p75)
        XCTAssertEqual(SquaredNorm(high: 0, low: .max).doubleValue, 0x1p64)
    }

    /// Past 2^128 - 1 the total stays there, in whatever order the parts come.
    func testSaturatesInAnyOrder() {
        let saturated = SquaredNorm(high: .max, low: .max)
        XCTAssertEqual(squaredNorm([.min, .min, .min, .min]), saturated)
        XCTAssertEqual(squaredNorm([.min, .min, .min, 1]), SquaredNorm(high: 3 << 62, low: 1), "not yet saturated")
        let parts = [squaredNorm([.min, .min]), squaredNorm([.min]), squaredNorm([.min, 5]), squaredNorm([7])]
        XCTAssertEqual(parts.reduce(SquaredNorm.zero) { $0.adding($1) }, saturated)
        XCTAssertEqual(parts.reversed().reduce(SquaredNorm.zero) { $0.adding($1) }, saturated)
        XCTAssertEqual(saturated.adding(SquaredNorm(high: 0, low: 1)), saturated)
        XCTAssertEqual(saturated.doubleValue, 0x1p128)
    }

    func testWordsRoundTrip() {
        let total = SquaredNorm(high: 0xDEAD_BEEF, low: 1 << 63 | 5)
        XCTAssertEqual(total.words, SIMD2<UInt64>(1 << 63 | 5, 0xDEAD_BEEF))
        XCTAssertEqual(SquaredNorm(words: total.words), total)
    }
}
