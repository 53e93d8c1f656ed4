import Datasets
import Wire

/// The pixels and labels of some micro-shards, gathered from the data set
/// in epoch order straight into the frames that carry them to a worker.
struct ShardBatch {
    let pixels: ZMQMessage
    let labels: ZMQMessage
    let sampleCounts: [Int]

    init(of data: LabeledImages, shards: [Range<Int>], order: [Int32]) throws {
        sampleCounts = shards.map(\.count)
        let samples = sampleCounts.reduce(0, +)
        pixels = try ZMQMessage(size: samples * data.inputSize)
        labels = try ZMQMessage(size: samples)
        pixels.withUnsafeMutableBytes { pixelBytes in
            labels.withUnsafeMutableBytes { labelBytes in
                let allPixels = pixelBytes.bindMemory(to: UInt8.self), allLabels = labelBytes.bindMemory(to: UInt8.self)
                var offset = 0
                for positions in shards {
                    PixelScaling.gather(
                        of: data, positions: positions, order: order,
                        intoPixels: UnsafeMutableBufferPointer(rebasing: allPixels[(offset * data.inputSize)...]),
                        intoLabels: UnsafeMutableBufferPointer(rebasing: allLabels[offset...]))
                    offset += positions.count
                }
            }
        }
    }
}
