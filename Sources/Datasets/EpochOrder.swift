/// The order in which an epoch visits the samples.
///
/// The result is part of dptrain's determinism promise: it must be the
/// same on every platform and every Swift version, forever, so it uses no
/// library RNG or shuffle (their algorithms are not promised). Exactly:
///
/// 1. Generator: SplitMix64 (Steele, Lea, Flood 2014). `next()` adds
///    0x9E3779B97F4A7C15 to the state and returns `mix(state)`, where
///    `mix(z)`: z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
///    z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31)
///    (all arithmetic wrapping mod 2^64).
/// 2. Initial state: `mix(seed) ^ mix(E + 0x9E3779B97F4A7C15)`
///    with E the epoch's two's-complement bit pattern as a UInt64,,
///    so neighbouring seeds and epochs give unrelated streams.
/// 3. Bounded draw in 0..<n: Lemire's multiply-and-reject (2019). Take
///    the 128-bit product x * n of a draw x; if its low half is below
///    (2^64 - n) mod n, reject and draw again; else return the high half.
///    Unbiased, and almost never draws twice.
/// 4. Fisher–Yates: start from 0, 1, ..., count-1; for i from count-1
///    down to 1, swap element i with element draw(i + 1).
public enum EpochOrder {
    public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int32] {
        precondition(count >= 0 && count <= Int(Int32.max), "sample count out of Int32 range")
        var generator = SplitMix64(state: SplitMix64.mix(seed) ^ SplitMix64.mix(UInt64(truncatingIfNeeded: epoch) &+ SplitMix64.increment))
        var order = Array(0..<Int32(count))
        var i = count - 1
        while i > 0 {
            let j = Int(generator.below(UInt64(i + 1)))
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }
}

/// See `EpochOrder` for the exact definition this must keep.
struct SplitMix64 {
    static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15
    var state: UInt64

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }

    /// Uniform in 0..<bound, bound > 0.
    mutating func below(_ bound: UInt64) -> UInt64 {
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }
}
