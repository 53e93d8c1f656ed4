/// Moving samples from the data set into a step's buffers. Both run in the
/// training loop, so neither allocates.
public enum PixelScaling {
    /// dst[i] = src[i] / 255. A division rather than a multiplication by
    /// 1/255, whose rounding differs for some bytes: this matches what
    /// Python tools compute, and the loop still vectorises.
    public static func normalise(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutableBufferPointer<Float>) {
        precondition(src.count == dst.count, "normalise: \(src.count) bytes into \(dst.count) floats")
        guard let source = src.baseAddress, let destination = dst.baseAddress else { return }
        for i in 0..<src.count {
            destination[i] = Float(source[i]) / 255
        }
    }

    /// Copies the samples `order[positions]`, one after another, into the
    /// two buffers, which must hold at least `positions.count` samples.
    public static func gather(of data: LabeledImages, positions: Range<Int>, order: [Int32],
                              intoPixels: UnsafeMutableBufferPointer<UInt8>,
                              intoLabels: UnsafeMutableBufferPointer<UInt8>) {
        let width = data.inputSize
        precondition(positions.lowerBound >= 0 && positions.upperBound <= order.count, "positions outside the order")
        precondition(intoPixels.count >= positions.count * width, "pixel buffer too small")
        precondition(intoLabels.count >= positions.count, "label buffer too small")
        data.pixels.withUnsafeBufferPointer { pixels in
            data.labels.withUnsafeBufferPointer { labels in
                for (slot, position) in positions.enumerated() {
                    let sample = Int(order[position])
                    precondition(sample >= 0 && sample < labels.count, "order names sample \(sample) of \(labels.count)")
                    (intoPixels.baseAddress! + slot * width)
                        .update(from: pixels.baseAddress! + sample * width, count: width)
                    intoLabels[slot] = labels[sample]
                }
            }
        }
    }
}
