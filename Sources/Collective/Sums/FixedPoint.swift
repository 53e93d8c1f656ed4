import FixedPointKernels

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

    /// Adds `gradient` onto `sum` on the fixed grid. Returns false when the
    /// gradient holds NaN or an infinity, which callers treat as divergence
    /// (those entries then add a meaningless but harmless value).
    @discardableResult
    public static func accumulate(
        _ gradient: UnsafeBufferPointer<Float>, into sum: UnsafeMutableBufferPointer<Int64>
    ) -> Bool {
        roundAdd(gradient, into: sum, overwrite: false)
    }

    /// Like `accumulate` onto zeros, but writes without reading the target:
    /// the first shard of a sum saves a clearing pass and a read pass.
    @discardableResult
    public static func store(
        _ gradient: UnsafeBufferPointer<Float>, into sum: UnsafeMutableBufferPointer<Int64>
    ) -> Bool {
        roundAdd(gradient, into: sum, overwrite: true)
    }

    /// The loops are C (FixedPointKernels), built for the widest vectors this
    /// CPU has: rounding one shard took 2.2 cycles a value in SSE2.
    private static func roundAdd(
        _ gradient: UnsafeBufferPointer<Float>, into sum: UnsafeMutableBufferPointer<Int64>, overwrite: Bool
    ) -> Bool {
        precondition(gradient.count == sum.count, "gradient and sum differ in length")
        guard !gradient.isEmpty else { return true }
        return fixed_point_round_add(kernelLevel, gradient.baseAddress!, sum.baseAddress!, gradient.count,
                                     overwrite ? 1 : 0) != 0
    }

    /// The widest build of the kernels this CPU runs.
    static let kernelLevel = fixed_point_best_level()

    /// Rounds every gradient of `group` (each as long as `sum`) onto the grid
    /// and adds them all to `sum`, or stores their total when `overwrite`.
    /// Returns false when any of them holds NaN or an infinity.
    ///
    /// One shard at a time over the whole vector reads and writes the 8-byte
    /// sum once per shard; rounding went memory-bound at 27% of a `train`
    /// step. Walking the vector in L1-sized blocks, every shard's slice of
    /// the block is added while the block is in cache, so the sum is read
    /// and written once per group. Integer addition makes the result the
    /// same bits as shard by shard.
    @discardableResult
    public static func add(
        _ group: ArraySlice<UnsafeMutableBufferPointer<Float>>, into sum: UnsafeMutableBufferPointer<Int64>,
        overwrite: Bool
    ) -> Bool {
        precondition(group.allSatisfy { $0.count == sum.count }, "gradient and sum differ in length")
        precondition(!group.isEmpty || !overwrite, "storing an empty group")
        var finite = true
        var start = 0
        while start < sum.count {
            let end = Swift.min(start + blockLength, sum.count)
            let block = UnsafeMutableBufferPointer(rebasing: sum[start..<end])
            var first = overwrite
            for gradient in group {
                let slice = UnsafeBufferPointer(rebasing: gradient[start..<end])
                let sliceFinite = first ? store(slice, into: block) : accumulate(slice, into: block)
                finite = finite && sliceFinite
                first = false
            }
            start = end
        }
        return finite
    }

    /// 1,024 Int64s (8 KB) plus a Float slice per shard stay in a 32 KB L1.
    static let blockLength = 1024

    /// The mean gradient over `sampleCount` samples, as Float for the optimiser.
    public static func average(
        _ sum: UnsafeBufferPointer<Int64>, sampleCount: Int, into mean: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(sum.count == mean.count && sampleCount > 0)
        guard !sum.isEmpty else { return }
        fixed_point_average(kernelLevel, sum.baseAddress!, mean.baseAddress!, sum.count,
                            Double(sampleCount) * Double(scale))
    }

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
