import Collective
import Datasets
import MLP

/// `dptrain train`: every shard computed here, one after another, through
/// the same ShardGradientComputer a worker uses.
public final class LocalGradientSource: GradientSource {
    private let data: LabeledImages
    private let computer: ShardGradientComputer
    private let pixels: UnsafeMutableBufferPointer<UInt8>
    private let labels: UnsafeMutableBufferPointer<UInt8>
    private var computeNanoseconds: UInt64 = 0

    public init(data: LabeledImages, architecture: Architecture, shardSize: Int) {
        self.data = data
        computer = ShardGradientComputer(architecture: architecture, shardSize: shardSize)
        pixels = .allocate(capacity: shardSize * data.inputSize)
        labels = .allocate(capacity: shardSize)
    }

    deinit {
        pixels.deallocate()
        labels.deallocate()
    }

    public var workerCount: Int { 1 }

    public func compute(_ work: StepWork, weights: UnsafeBufferPointer<Float>, into sum: GradientSum) throws {
        let start = monotonicNanoseconds()
        for positions in work.shards {
            PixelScaling.gather(of: data, positions: positions, order: work.order, intoPixels: pixels, intoLabels: labels)
            computer.addShard(
                weights: weights, pixels: UnsafeBufferPointer(pixels), labels: UnsafeBufferPointer(labels),
                samples: positions.count, into: sum)
        }
        computeNanoseconds += monotonicNanoseconds() - start
    }

    public func takeComputeNanoseconds() -> UInt64 {
        defer { computeNanoseconds = 0 }
        return computeNanoseconds
    }
}
