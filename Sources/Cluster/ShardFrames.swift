import Datasets
import Wire

/// The frames that carry one worker's micro-shards, reused step after step:
/// pixels and labels are gathered from the data set straight into buffers
/// these frames refer to, so a step's work costs no allocation and no copy
/// after the gather. The caller rewrites them only once the worker has
/// answered the work they carried, so libzmq has long sent the old bytes.
final class ShardFrames {
    private var pixels = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    private var labels = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    let pixelFrame = ZMQMessage()
    let labelFrame = ZMQMessage()
    private(set) var shards: [Work.Shard] = []

    deinit {
        pixels.deallocate()
        labels.deallocate()
    }

    /// Gathers the shards `block` of `work` and points the frames at them.
    func fill(from data: LabeledImages, work: StepWork, block: Range<Int>) {
        let samples = block.reduce(0) { $0 + work.shards[$1].count }
        if labels.count < samples {
            pixels.deallocate()
            labels.deallocate()
            pixels = .allocate(capacity: samples * data.inputSize)
            labels = .allocate(capacity: samples)
        }
        shards.removeAll(keepingCapacity: true)
        var offset = 0
        for index in block {
            let positions = work.shards[index]
            PixelScaling.gather(
                of: data, positions: positions, order: work.order,
                intoPixels: UnsafeMutableBufferPointer(rebasing: pixels[(offset * data.inputSize)...]),
                intoLabels: UnsafeMutableBufferPointer(rebasing: labels[offset...]))
            shards.append(Work.Shard(shardID: UInt32(index), sampleCount: UInt32(positions.count)))
            offset += positions.count
        }
        pixelFrame.refer(to: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: pixels[0..<(offset * data.inputSize)])))
        labelFrame.refer(to: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: labels[0..<offset])))
    }
}
