import Collective
import Datasets
import MLP

/// `dptrain train`: every shard computed here, through the same
/// ShardGradientComputer a worker uses, from a step's images gathered one
/// shard after another as a work message carries them.
public final class LocalGradientSource: GradientSource {
    private let data: LabeledImages
    private let computer: ShardGradientComputer
    private let gather = ShardGather()

    public init(data: LabeledImages, architecture: Architecture, shardSize: Int, options: GradientOptions = GradientOptions()) {
        self.data = data
        computer = ShardGradientComputer(architecture: architecture, shardSize: shardSize, options: options)
    }

    public var workerCount: Int { 1 }

    public func compute(_ work: StepWork, weights: LendableBuffer<Float>, into sum: GradientSum) throws {
        gather.fill(from: data, work: work, shards: work.shards.indices)
        computer.addShards(
            weights: weights.readOnly, pixels: gather.filledPixels, labels: gather.filledLabels,
            step: UInt64(work.globalStep), shards: work.shards.indices.lazy.map { (id: $0, samples: work.shards[$0].count) },
            into: sum)
    }
}
