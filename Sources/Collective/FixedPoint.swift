/// Exact gradient accumulation.
///
/// Floating-point addition is not associative, so summing micro-shard gradients
/// in an order that depends on which worker computed what would make the model
/// depend on the worker count. Instead every micro-shard's Float gradient is
/// rounded once onto a fixed grid of 2^-32 and summed as Int64: integer addition
/// is associative and commutative, so any grouping of shards over any number of
/// workers (or a ring) gives the same bits.
///
/// Range: one shard's value is clamped to ±2^19 (2^51 on the grid), so up to
/// 2^11 shards (a 65,536-sample global batch at 32 samples a shard) sum to at
/// most 2^62, clear of Int64's limit. A gradient component of half a million
/// in one micro-shard means the run has diverged anyway; clamping keeps even
/// that deterministic.
public enum FixedPoint {
    public static let fractionalBits = 32
    public static let scale: Float = 4_294_967_296  // 2^32, exact in Float
    public static let maxShardsPerSum = 2048
    static let clampLimit: Float = 2_251_799_813_685_248  // 2^51

    /// Adds `gradient` onto `sum` on the fixed grid. Returns false when the
    /// gradient holds NaN or an infinity, which callers treat as divergence
    /// (those entries then add a meaningless but harmless value).
    ///
    /// Float -> Int64 has no vector instruction below AVX-512, and `rounded()`
    /// is a libm call, which made this loop 70% of a training step. Instead:
    /// Float -> Double is exact, so is the scaling by 2^32, and for |x| <= 2^51
    /// adding 1.5 * 2^52 leaves round-to-nearest-even(x) in the low mantissa
    /// bits; subtracting the constant's bit pattern yields the integer. Every
    /// operation vectorises with SSE2 and none can trap.
    @discardableResult
    public static func accumulate(
        _ gradient: UnsafeBufferPointer<Float>, into sum: UnsafeMutableBufferPointer<Int64>
    ) -> Bool {
        precondition(gradient.count == sum.count, "gradient and sum differ in length")
        let source = gradient.baseAddress!, target = sum.baseAddress!
        var nonFinite: UInt32 = 0
        for i in 0..<gradient.count {
            nonFinite |= flagNonFinite(source[i])
            target[i] &+= onGrid(source[i])
        }
        return nonFinite == 0
    }

    /// Like `accumulate` onto zeros, but writes without reading the target:
    /// the first shard of a sum saves a clearing pass and a read pass.
    @discardableResult
    public static func store(
        _ gradient: UnsafeBufferPointer<Float>, into sum: UnsafeMutableBufferPointer<Int64>
    ) -> Bool {
        precondition(gradient.count == sum.count, "gradient and sum differ in length")
        let source = gradient.baseAddress!, target = sum.baseAddress!
        var nonFinite: UInt32 = 0
        for i in 0..<gradient.count {
            nonFinite |= flagNonFinite(source[i])
            target[i] = onGrid(source[i])
        }
        return nonFinite == 0
    }

    /// round-to-nearest-even(value * 2^32), clamped, by the magic constant (see `accumulate`).
    @inline(__always)
    static func onGrid(_ value: Float) -> Int64 {
        let scaled = Double(value) * Double(scale), limit = Double(clampLimit)
        let clamped = scaled > limit ? limit : (scaled < -limit ? -limit : scaled)
        return Int64(bitPattern: (clamped + magic).bitPattern) &- Int64(bitPattern: magic.bitPattern)
    }

    /// 1 for NaN and infinities (all-ones exponent). An integer OR is
    /// associative, so unlike a Float sum it does not stop vectorisation.
    @inline(__always)
    static func flagNonFinite(_ value: Float) -> UInt32 {
        (value.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0
    }

    /// The mean gradient over `sampleCount` samples, as Float for the optimiser.
    /// Int64 -> Double is scalar below AVX-512 too, so each sum is split into
    /// 32-bit halves, each converted exactly with the magic constant; their
    /// recombination rounds once, giving exactly Double(n) for any Int64.
    public static func average(
        _ sum: UnsafeBufferPointer<Int64>, sampleCount: Int, into mean: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(sum.count == mean.count && sampleCount > 0)
        let divisor = Double(sampleCount) * Double(scale)
        let magicBits = Int64(bitPattern: magic.bitPattern)
        let source = sum.baseAddress!, target = mean.baseAddress!
        for i in 0..<sum.count {
            let n = source[i]
            let high = Double(bitPattern: UInt64(bitPattern: (n >> 32) &+ magicBits)) - magic
            let low = Double(bitPattern: UInt64(bitPattern: (n & 0xFFFF_FFFF) &+ magicBits)) - magic
            target[i] = Float((high * 4_294_967_296 + low) / divisor)
        }
    }

    /// 1.5 * 2^52: doubles in [2^52, 2^53) are spaced exactly 1 apart.
    static let magic: Double = 6_755_399_441_055_744

    /// A loss sum on the same grid, so reported losses do not depend on grouping either.
    public static func encode(loss: Double) -> Int64 {
        guard loss.isFinite else { return nonFiniteLoss }
        return Int64(Swift.max(-9.0e15, Swift.min(9.0e15, (loss * Double(scale)).rounded())))
    }

    public static func decode(loss: Int64) -> Double {
        loss == nonFiniteLoss ? .nan : Double(loss) / Double(scale)
    }

    /// Two loss sums added; a non-finite one makes the sum non-finite for good.
    public static func add(loss a: Int64, _ b: Int64) -> Int64 {
        a == nonFiniteLoss || b == nonFiniteLoss ? nonFiniteLoss : a &+ b
    }

    /// Sentinel a worker sends when its gradient or loss was not finite.
    public static let nonFiniteLoss = Int64.min
}
