/// Which micro-shards verified gradients compute twice (`--verify-fraction`),
/// for either collective (`ShardVerification`, `RingVerification`).
///
/// The sample is a pure function of the seed, the step and the shard, so a
/// verified run is as reproducible as any other.
struct VerificationSample {
    let fraction: Double
    let seed: UInt64

    func contains(step: Int, shard: Int) -> Bool {
        guard fraction > 0 else { return false }
        guard fraction < 1 else { return true }
        // SplitMix64's finaliser over the three: uniform, and cheap.
        var x = seed ^ (UInt64(truncatingIfNeeded: step) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(truncatingIfNeeded: shard) &* 0xC2B2_AE3D_27D4_EB4F)
        x ^= x >> 30; x &*= 0xBF58_476D_1CE4_E5B9
        x ^= x >> 27; x &*= 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return Double(x >> 11) / Double(UInt64(1) << 53) < fraction
    }
}
