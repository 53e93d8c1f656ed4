import MLP

/// The optimiser's update at `range` for the 0-based global step `step`,
/// from fixed-point gradient sums over `sampleCount` samples: the update of `train`, the central coordinator and each ring
/// member's owned slice. A cache-sized block at a time, so each block's mean
/// is still in cache when SGD reads it (the bits are those of two whole
/// passes). `sums`, `parameters`, `mean` (scratch) and the optimiser's
/// state planes share one indexing. `clipping` is applied by value only
/// here (elementwise, so any slice gives the same bits); the norm rule needs
/// the whole gradient, and its factor comes in as `scale`.
///
/// Returns the sum of the squared means over `range` before clipping (for
/// the gradient norm TensorBoard shows), taken from each block while it is
/// in cache.
@discardableResult
public func applyAveragedUpdate(
    sums: UnsafeBufferPointer<Int64>, sampleCount: Int, range: Range<Int>, optimiser: Optimiser,
    parameters: UnsafeMutableBufferPointer<Float>, mean: UnsafeMutableBufferPointer<Float>, learningRate: Float,
    step: Int, clipping: GradientClipping = GradientClipping(), scale: Float = 1
) -> Double {
    let blockLength = 4096
    var squares = 0.0
    for start in stride(from: range.lowerBound, to: range.upperBound, by: blockLength) {
        let block = start..<min(start + blockLength, range.upperBound)
        FixedPoint.average(UnsafeBufferPointer(rebasing: sums[block]), sampleCount: sampleCount,
                           into: UnsafeMutableBufferPointer(rebasing: mean[block]))
        squares += Double(BLAS.sumOfSquares(UnsafeBufferPointer(rebasing: mean[block])))
        if scale != 1 || clipping.maxValue != nil {
            clipping.apply(UnsafeMutableBufferPointer(rebasing: mean[block]), scale: scale)
        }
        optimiser.step(range: block, parameters: parameters, gradient: UnsafeBufferPointer(mean),
                       learningRate: learningRate, step: step)
    }
    return squares
}
