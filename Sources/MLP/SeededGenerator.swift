/// xoshiro256** (Blackman and Vigna), seeded by running SplitMix64 from a
/// single UInt64, as the authors recommend. Every random choice in training
/// comes from here, never from the system source, so a seed fixes a run on
/// every platform. Training draws from it only to initialise the weights,
/// before the first step, so a checkpoint needs no generator state.
public struct SeededGenerator: RandomNumberGenerator, Equatable, Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        (s0, s1, s2, s3) = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform Float in [-bound, bound): the top 24 bits of one draw make
    /// u in [0, 1) exactly, 2u − 1 is exact in Double, and the product with
    /// `bound` is rounded to Float once. IEEE arithmetic makes this the same
    /// on every platform.
    public mutating func nextSymmetric(bound: Double) -> Float {
        let u = Double(next() >> 40) * 0x1p-24
        return Float((2 * u - 1) * bound)
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
