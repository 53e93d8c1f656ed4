import Collective
import Datasets
import MLP

/// Computes micro-shard gradients and adds them onto a fixed-point sum.
/// `train` and every worker use this same code, which is what makes their
/// results bit-identical: a shard's Float gradient depends only on the shard
/// and the weights, never on who computes it or what else they compute.
public final class ShardGradientComputer {
    public let architecture: Architecture
    public let shardSize: Int
    private let workspace: GradientWorkspace
    private let inputs: UnsafeMutableBufferPointer<Float>
    private let gradient: UnsafeMutableBufferPointer<Float>

    public init(architecture: Architecture, shardSize: Int) {
        self.architecture = architecture
        self.shardSize = shardSize
        workspace = GradientWorkspace(architecture: architecture, maxBatch: shardSize)
        inputs = .allocate(capacity: shardSize * architecture.inputSize)
        gradient = .allocate(capacity: architecture.parameterCount)
    }

    deinit {
        inputs.deallocate()
        gradient.deallocate()
    }

    /// Adds every shard of a work message: `pixels` and `labels` hold the
    /// shards one after another, `sampleCounts` how many samples each has.
    public func addShards<Counts: Sequence>(
        weights: UnsafeBufferPointer<Float>, pixels: UnsafeBufferPointer<UInt8>, labels: UnsafeBufferPointer<UInt8>,
        sampleCounts: Counts, into sum: GradientSum, betweenShards: () -> Void
    ) where Counts.Element == Int {
        let inputSize = architecture.inputSize
        var offset = 0
        for samples in sampleCounts {
            addShard(
                weights: weights,
                pixels: UnsafeBufferPointer(rebasing: pixels[(offset * inputSize)..<((offset + samples) * inputSize)]),
                labels: UnsafeBufferPointer(rebasing: labels[offset..<(offset + samples)]),
                samples: samples, into: sum)
            offset += samples
            betweenShards()
        }
    }

    /// `pixels` holds `samples` images as UInt8, `labels` their classes.
    public func addShard(
        weights: UnsafeBufferPointer<Float>, pixels: UnsafeBufferPointer<UInt8>,
        labels: UnsafeBufferPointer<UInt8>, samples: Int, into sum: GradientSum
    ) {
        precondition(samples > 0 && samples <= shardSize)
        let width = samples * architecture.inputSize
        let scaled = UnsafeMutableBufferPointer(rebasing: inputs[0..<width])
        PixelScaling.normalise(UnsafeBufferPointer(rebasing: pixels[0..<width]), into: scaled)
        let result = workspace.computeGradient(
            parameters: weights, inputs: UnsafeBufferPointer(scaled),
            labels: UnsafeBufferPointer(rebasing: labels[0..<samples]),
            batch: samples, gradient: gradient)
        sum.addShard(gradient: UnsafeBufferPointer(gradient), lossSum: result.lossSum,
                     correct: result.correct, samples: samples)
    }
}
