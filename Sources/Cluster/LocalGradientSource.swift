import Collective
import Datasets
import MLP

/// `dptrain train`: every shard computed here, through the same
/// ShardGradientComputer a worker uses, from a step's images gathered one
/// shard after another as a work message carries them.
public final class LocalGradientSource: GradientSource {
    private let data: LabeledImages
    private let computer: ShardGradientComputer
    /// Room for a whole step, grown on the first step (and never in a steady run).
    private var pixels = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    private var labels = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    private var computeNanoseconds: UInt64 = 0

    public init(data: LabeledImages, architecture: Architecture, shardSize: Int) {
        self.data = data
        computer = ShardGradientComputer(architecture: architecture, shardSize: shardSize)
    }

    deinit {
        pixels.deallocate()
        labels.deallocate()
    }

    public var workerCount: Int { 1 }

    private func reserve(samples: Int) {
        guard labels.count < samples else { return }
        pixels.deallocate()
        labels.deallocate()
        pixels = .allocate(capacity: samples * data.inputSize)
        labels = .allocate(capacity: samples)
    }

    public func compute(_ work: StepWork, weights: UnsafeBufferPointer<Float>, into sum: GradientSum) throws {
        let start = monotonicNanoseconds()
        let samples = work.shards.reduce(0) { $0 + $1.count }
        reserve(samples: samples)
        var filled = 0
        for positions in work.shards {
            PixelScaling.gather(
                of: data, positions: positions, order: work.order,
                intoPixels: UnsafeMutableBufferPointer(rebasing: pixels[(filled * data.inputSize)...]),
                intoLabels: UnsafeMutableBufferPointer(rebasing: labels[filled...]))
            filled += positions.count
        }
        computer.addShards(
            weights: weights, pixels: UnsafeBufferPointer(rebasing: pixels[0..<(samples * data.inputSize)]),
            labels: UnsafeBufferPointer(rebasing: labels[0..<samples]),
            sampleCounts: work.shards.lazy.map(\.count), into: sum)
        computeNanoseconds += monotonicNanoseconds() - start
    }

    public func takeComputeNanoseconds() -> UInt64 {
        defer { computeNanoseconds = 0 }
        return computeNanoseconds
    }
}
