/// The squared L2 norm of fixed-point gradient sums, exactly: the sum of
/// the squares of the Int64 sums, in 128 bits. --clip-norm scales by the
/// norm of the whole reduced gradient, which no ring member holds; but an
/// integer total does not depend on how the sums are split or in which
/// order the parts are added. So a ring member squares its owned chunk, the
/// members pass their parts round the ring, and every member gets the
/// total `train` and the central coordinator get from the whole sum: the
/// same norm, bit for bit, for any number of workers.
///
/// 128 bits hold 16 squares of the largest sum FixedPoint allows (2^62); a
/// total beyond 2^128 - 1 stays there. Saturating addition of non-negative
/// parts is min(total, 2^128 - 1) in any order, so even a diverging run
/// stays deterministic.
///
/// Two UInt64 words rather than the standard library's UInt128, which macOS
/// has only from version 15 (the package supports 13).
public struct SquaredNorm: Equatable, Sendable {
    public private(set) var high: UInt64
    public private(set) var low: UInt64

    public static let zero = SquaredNorm(high: 0, low: 0)
    static let saturated = SquaredNorm(high: .max, low: .max)

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Σ sums[i]².
    public init(of sums: UnsafeBufferPointer<Int64>) {
        self = .zero
        for value in sums {
            let magnitude = value.magnitude
            let square = magnitude.multipliedFullWidth(by: magnitude)
            add(high: square.high, low: square.low)
        }
    }

    /// The two words as a ring link carries them: [low, high].
    public init(words: SIMD2<UInt64>) {
        self.init(high: words[1], low: words[0])
    }

    public var words: SIMD2<UInt64> { SIMD2(low, high) }

    /// The sum of both totals (saturating).
    public func adding(_ other: SquaredNorm) -> SquaredNorm {
        var total = self
        total.add(high: other.high, low: other.low)
        return total
    }

    /// Saturated stays saturated: any further part overflows or adds nothing.
    private mutating func add(high addedHigh: UInt64, low addedLow: UInt64) {
        let (newLow, carry) = low.addingReportingOverflow(addedLow)
        let (partHigh, overflow1) = high.addingReportingOverflow(addedHigh)
        let (newHigh, overflow2) = partHigh.addingReportingOverflow(carry ? 1 : 0)
        if overflow1 || overflow2 {
            self = .saturated
        } else {
            (high, low) = (newHigh, newLow)
        }
    }

    /// The total rounded once to the nearest Double (ties to even).
    public var doubleValue: Double {
        guard high != 0 else { return Double(low) }
        // The top 64 bits, with any bit below them folded into the lowest:
        // the 11 bits Double drops then round as the whole tail would.
        let shift = high.leadingZeroBitCount
        let top = shift == 0 ? high : high << shift | low >> (64 - shift)
        let sticky: UInt64 = low << shift == 0 ? 0 : 1
        return Double(sign: .plus, exponent: 64 - shift, significand: Double(top | sticky))
    }

    /// ‖mean gradient‖₂ of sums over `sampleCount` samples: √total ÷ (samples · 2^32).
    public func norm(sampleCount: Int) -> Double {
        precondition(sampleCount > 0, "a mean over no samples")
        return doubleValue.squareRoot() / (Double(sampleCount) * Double(FixedPoint.scale))
    }
}
