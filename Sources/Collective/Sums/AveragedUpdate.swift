import MLP

/// SGD at `range` from fixed-point gradient sums over `sampleCount`
/// samples: the update of `train`, the central coordinator and each ring
/// member's owned slice. A cache-sized block at a time, so each block's mean
/// is still in cache when SGD reads it (the bits are those of two whole
/// passes). `sums`, `parameters`, `mean` (scratch) and the optimiser's
/// velocity share one indexing.
///
/// Returns the sum of the squared means over `range` (for the gradient
/// norm TensorBoard shows), taken from each block while it is in cache.
@discardableResult
public func applyAveragedUpdate(
    sums: UnsafeBufferPointer<Int64>, sampleCount: Int, range: Range<Int>, optimiser: SGD,
    parameters: UnsafeMutableBufferPointer<Float>, mean: UnsafeMutableBufferPointer<Float>, learningRate: Float
) -> Double {
    let blockLength = 4096
    var squares = 0.0
    for start in stride(from: range.lowerBound, to: range.upperBound, by: blockLength) {
        let block = start..<min(start + blockLength, range.upperBound)
        FixedPoint.average(UnsafeBufferPointer(rebasing: sums[block]), sampleCount: sampleCount,
                           into: UnsafeMutableBufferPointer(rebasing: mean[block]))
        squares += Double(BLAS.sumOfSquares(UnsafeBufferPointer(rebasing: mean[block])))
        optimiser.step(range: block, parameters: parameters, gradient: UnsafeBufferPointer(mean), learningRate: learningRate)
    }
    return squares
}
