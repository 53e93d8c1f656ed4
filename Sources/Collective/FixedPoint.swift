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

    /// Adds `gradient` onto `sum` on the fixed grid. Returns false (and adds
    /// nothing meaningful for those entries) when the gradient holds NaN or an
    /// infinity, which callers treat as divergence.
    @discardableResult
    public static func accumulate(
        _ gradient: UnsafeBufferPointer<Float>, into sum: UnsafeMutableBufferPointer<Int64>
    ) -> Bool {
        precondition(gradient.count == sum.count, "gradient and sum differ in length")
        let source = gradient.baseAddress!, target = sum.baseAddress!
        var finite = true
        for i in 0..<gradient.count {
            let value = source[i]
            // `value == value` is false only for NaN; branch-free so it vectorises.
            finite = finite && value == value && abs(value) != .infinity
            let clamped = Swift.max(-clampLimit, Swift.min(clampLimit, (value * scale).rounded()))
            target[i] &+= Int64(clamped == clamped ? clamped : 0)
        }
        return finite
    }

    /// Element-wise `sum += other`; the reduction step of every collective.
    public static func add(_ other: UnsafeBufferPointer<Int64>, into sum: UnsafeMutableBufferPointer<Int64>) {
        precondition(other.count == sum.count, "buffers differ in length")
        let source = other.baseAddress!, target = sum.baseAddress!
        for i in 0..<other.count { target[i] &+= source[i] }
    }

    /// The mean gradient over `sampleCount` samples, as Float for the optimiser.
    public static func average(
        _ sum: UnsafeBufferPointer<Int64>, sampleCount: Int, into mean: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(sum.count == mean.count && sampleCount > 0)
        let divisor = Double(sampleCount) * Double(scale)
        let source = sum.baseAddress!, target = mean.baseAddress!
        for i in 0..<sum.count { target[i] = Float(Double(source[i]) / divisor) }
    }

    /// A loss sum on the same grid, so reported losses do not depend on grouping either.
    public static func encode(loss: Double) -> Int64 {
        guard loss.isFinite else { return nonFiniteLoss }
        return Int64(Swift.max(-9.0e15, Swift.min(9.0e15, (loss * Double(scale)).rounded())))
    }

    public static func decode(loss: Int64) -> Double {
        loss == nonFiniteLoss ? .nan : Double(loss) / Double(scale)
    }

    /// Sentinel a worker sends when its gradient or loss was not finite.
    public static let nonFiniteLoss = Int64.min
}
