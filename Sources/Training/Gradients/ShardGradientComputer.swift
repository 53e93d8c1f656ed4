import Collective
import Datasets
import MLP

/// Computes micro-shard gradients and adds them onto a fixed-point sum.
/// `train` and every worker use this same code, which is what makes their
/// results bit-identical: a shard's Float gradient depends only on the shard
/// and the weights, never on who computes it or what else they compute.
///
/// Up to `groupCapacity` shards' Float gradients are kept side by side and
/// rounded onto the sum together, in one pass over it (`FixedPoint.add`).
public final class ShardGradientComputer {
    public let architecture: Architecture
    public let shardSize: Int
    /// Four shards: a 128-sample step on one worker in one pass over the sum;
    /// four gradients of 784-512-256-10 hold 8.6 MB.
    public static let groupCapacity = 4
    private let workspace: GradientWorkspace
    private let inputs: UnsafeMutableBufferPointer<Float>
    private let gradients: [UnsafeMutableBufferPointer<Float>]
    private var results: [ShardResult]

    public init(architecture: Architecture, shardSize: Int) {
        self.architecture = architecture
        self.shardSize = shardSize
        workspace = GradientWorkspace(architecture: architecture, maxBatch: shardSize)
        inputs = .allocate(capacity: shardSize * architecture.inputSize)
        gradients = (0..<Self.groupCapacity).map { _ in .allocate(capacity: architecture.parameterCount) }
        results = []
        results.reserveCapacity(Self.groupCapacity)
    }

    deinit {
        inputs.deallocate()
        for gradient in gradients { gradient.deallocate() }
    }

    /// Adds every shard of a step's work: `pixels` and `labels` hold the
    /// shards one after another, `sampleCounts` how many samples each has.
    /// `betweenShards` runs after each shard's gradient (workers answer
    /// heartbeats there).
    public func addShards<Counts: Sequence>(
        weights: UnsafeBufferPointer<Float>, pixels: UnsafeBufferPointer<UInt8>, labels: UnsafeBufferPointer<UInt8>,
        sampleCounts: Counts, into sum: GradientSum, betweenShards: () -> Void = {}
    ) where Counts.Element == Int {
        let inputSize = architecture.inputSize
        var offset = 0
        results.removeAll(keepingCapacity: true)
        for samples in sampleCounts {
            results.append(computeShard(
                weights: weights,
                pixels: UnsafeBufferPointer(rebasing: pixels[(offset * inputSize)..<((offset + samples) * inputSize)]),
                labels: UnsafeBufferPointer(rebasing: labels[offset..<(offset + samples)]),
                samples: samples, into: gradients[results.count]))
            offset += samples
            if results.count == Self.groupCapacity { roundGroup(into: sum) }
            betweenShards()
        }
        roundGroup(into: sum)
    }

    private func roundGroup(into sum: GradientSum) {
        sum.addShards(gradients[0..<results.count], results: results[...])
        results.removeAll(keepingCapacity: true)
    }

    /// About what a worker allocates for this network and shard size: the
    /// computer's inputs, activations and group of gradients, and the weights,
    /// sums and frames around it (about 40 bytes a parameter). Saturates.
    public static func bytesNeeded(architecture: Architecture, shardSize: Int) -> Int {
        let perSample = architecture.inputSize + 2 * architecture.layerSizes.dropFirst().reduce(0, +)
        let (activations, overflow) = shardSize.multipliedReportingOverflow(by: perSample * 4)
        let parameters = architecture.parameterCount * (4 * groupCapacity + 24)
        return overflow ? .max : activations.addingReportingOverflow(parameters).overflow ? .max : activations + parameters
    }

    /// The first label that names no output of the network: work that holds
    /// one came from a broken or hostile coordinator and is not computed.
    public func firstLabelOutOfRange(_ labels: UnsafeBufferPointer<UInt8>) -> UInt8? {
        let outputs = architecture.outputSize
        return labels.first { Int($0) >= outputs }
    }

    /// `pixels` holds `samples` images as UInt8, `labels` their classes.
    private func computeShard(
        weights: UnsafeBufferPointer<Float>, pixels: UnsafeBufferPointer<UInt8>,
        labels: UnsafeBufferPointer<UInt8>, samples: Int, into gradient: UnsafeMutableBufferPointer<Float>
    ) -> ShardResult {
        precondition(samples > 0 && samples <= shardSize)
        let width = samples * architecture.inputSize
        let scaled = UnsafeMutableBufferPointer(rebasing: inputs[0..<width])
        PixelScaling.normalise(UnsafeBufferPointer(rebasing: pixels[0..<width]), into: scaled)
        let result = workspace.computeGradient(
            parameters: weights, inputs: UnsafeBufferPointer(scaled),
            labels: UnsafeBufferPointer(rebasing: labels[0..<samples]),
            batch: samples, gradient: gradient)
        return ShardResult(lossSum: result.lossSum, correct: result.correct, samples: samples)
    }
}
