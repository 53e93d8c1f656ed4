import MLP

/// The optimiser's update at `range` for the 0-based global step `step`,
/// from fixed-point gradient sums over `sampleCount` samples: the update of `train`, the central coordinator and each ring
/// member's owned slice. A cache-sized block at a time, so each block's mean
/// is still in cache when SGD reads it (the bits are those of two whole
/// passes). `sums`, `parameters`, `mean` (scratch) and the optimiser's
/// state planes share one indexing.
public func applyAveragedUpdate(
    sums: UnsafeBufferPointer<Int64>, sampleCount: Int, range: Range<Int>, optimiser: Optimiser,
    parameters: UnsafeMutableBufferPointer<Float>, mean: UnsafeMutableBufferPointer<Float>, learningRate: Float,
    step: Int
) {
    let blockLength = 4096
    for start in stride(from: range.lowerBound, to: range.upperBound, by: blockLength) {
        let block = start..<min(start + blockLength, range.upperBound)
        FixedPoint.average(UnsafeBufferPointer(rebasing: sums[block]), sampleCount: sampleCount,
                           into: UnsafeMutableBufferPointer(rebasing: mean[block]))
        optimiser.step(range: block, parameters: parameters, gradient: UnsafeBufferPointer(mean),
                       learningRate: learningRate, step: step)
    }
}
