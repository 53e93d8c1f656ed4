import Collective
import Datasets
import Training
import Wire

/// The pixel and label frames that carry micro-shards to a worker.
///
/// `kept` frames are reused step after step: the shards are gathered into
/// buffers the frames point at, so a step's work costs no allocation and no
/// copy after the gather. They are lent while a send may still read them,
/// and refilling them before the sender settles them throws. `fresh` frames
/// are gathered straight into new frames that libzmq owns, for sends whose
/// end nothing proves (a lost worker's shards moved mid-step).
final class ShardFrames {
    private let gather = ShardGather()
    let pixelFrame = ZMQMessage()
    let labelFrame = ZMQMessage()
    private(set) var shards: [Work.Shard] = []
    private(set) var isLent = false

    /// Gathers shards `block` of `work` and points the frames at them.
    func fill(from data: LabeledImages, work: StepWork, block: Range<Int>) throws {
        guard !isLent else { throw BufferStillLent() }
        gather.fill(from: data, work: work, shards: block)
        Self.list(block, of: work, into: &shards)
        pixelFrame.refer(to: UnsafeRawBufferPointer(gather.filledPixels))
        labelFrame.refer(to: UnsafeRawBufferPointer(gather.filledLabels))
    }

    /// The frames are about to be sent: not to be refilled until `settle()`.
    func lend() { isLent = true }

    /// The worker has answered the work these frames carried, or was dropped.
    func settle() { isLent = false }

    /// Shards `block` of `work` in new frames of their own.
    static func fresh(from data: LabeledImages, work: StepWork, block: [Int]) throws -> (ZMQMessage, ZMQMessage, [Work.Shard]) {
        let samples = block.reduce(0) { $0 + work.shards[$1].count }
        let pixels = try ZMQMessage(size: samples * data.inputSize)
        let labels = try ZMQMessage(size: samples)
        pixels.withUnsafeMutableBytes { pixelBytes in
            labels.withUnsafeMutableBytes { labelBytes in
                ShardGather.gather(from: data, work: work, shards: block, pixels: pixelBytes.bindMemory(to: UInt8.self),
                                   labels: labelBytes.bindMemory(to: UInt8.self))
            }
        }
        var shards: [Work.Shard] = []
        list(block, of: work, into: &shards)
        return (pixels, labels, shards)
    }

    private static func list<Shards: Sequence>(_ block: Shards, of work: StepWork, into shards: inout [Work.Shard]) where Shards.Element == Int {
        shards.removeAll(keepingCapacity: true)
        for index in block {
            shards.append(Work.Shard(shardID: UInt32(index), sampleCount: UInt32(work.shards[index].count)))
        }
    }
}

extension ShardGradientComputer {
    /// Shard `shard` of `work` alone onto the emptied `sum`, at `weights`:
    /// a verifying coordinator's third computation of a disputed shard.
    func computeAlone(
        _ shard: Int, of work: StepWork, from data: LabeledImages, weights: UnsafeBufferPointer<Float>, into sum: GradientSum
    ) throws {
        let (pixels, labels, shards) = try ShardFrames.fresh(from: data, work: work, block: [shard])
        sum.reset()
        pixels.withUnsafeBytes { pixelBytes in
            labels.withUnsafeBytes { labelBytes in
                addShards(
                    weights: weights, pixels: pixelBytes.bindMemory(to: UInt8.self), labels: labelBytes.bindMemory(to: UInt8.self),
                    step: UInt64(work.globalStep), shards: shards.map { (id: Int($0.shardID), samples: Int($0.sampleCount)) }, into: sum)
            }
        }
    }
}
