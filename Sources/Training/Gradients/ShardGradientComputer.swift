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
    /// Shifted pixels, when the options ask for augmentation.
    private let shifted: UnsafeMutableBufferPointer<UInt8>?
    private let shift: RandomShift?
    private let gradients: [UnsafeMutableBufferPointer<Float>]
    private var results: [ShardResult]

    /// `options.shift` needs square images (`checkShift` says whether they are).
    public init(architecture: Architecture, shardSize: Int, options: GradientOptions = GradientOptions()) {
        self.architecture = architecture
        self.shardSize = shardSize
        workspace = GradientWorkspace(architecture: architecture, maxBatch: shardSize, options: options)
        inputs = .allocate(capacity: shardSize * architecture.inputSize)
        if options.shift > 0, let side = Self.imageSide(inputSize: architecture.inputSize) {
            shift = RandomShift(maxShift: options.shift, side: side, seed: options.seed)
            shifted = .allocate(capacity: shardSize * architecture.inputSize)
        } else {
            precondition(options.shift == 0, "shifts need square images")
            shift = nil
            shifted = nil
        }
        gradients = (0..<Self.groupCapacity).map { _ in .allocate(capacity: architecture.parameterCount) }
        results = []
        results.reserveCapacity(Self.groupCapacity)
    }

    deinit {
        inputs.deallocate()
        shifted?.deallocate()
        for gradient in gradients { gradient.deallocate() }
    }

    /// The side of square images of `inputSize` pixels, nil if they are not square.
    public static func imageSide(inputSize: Int) -> Int? {
        let side = Int(Double(inputSize).squareRoot().rounded())
        return side * side == inputSize ? side : nil
    }

    /// Adds every shard of global step `step`'s work: `pixels` and `labels`
    /// hold the shards one after another, `shards` each one's id (its index
    /// in the step) and how many samples it has. `betweenShards` runs after
    /// each shard's gradient (workers answer heartbeats there).
    public func addShards<Shards: Sequence>(
        weights: UnsafeBufferPointer<Float>, pixels: UnsafeBufferPointer<UInt8>, labels: UnsafeBufferPointer<UInt8>,
        step: UInt64, shards: Shards, into sum: GradientSum, betweenShards: () -> Void = {}
    ) where Shards.Element == (id: Int, samples: Int) {
        let inputSize = architecture.inputSize
        var offset = 0
        results.removeAll(keepingCapacity: true)
        for (id, samples) in shards {
            results.append(computeShard(
                weights: weights,
                pixels: UnsafeBufferPointer(rebasing: pixels[(offset * inputSize)..<((offset + samples) * inputSize)]),
                labels: UnsafeBufferPointer(rebasing: labels[offset..<(offset + samples)]),
                samples: samples, step: step, firstSample: UInt64(id * shardSize), into: gradients[results.count]))
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

    /// `pixels` holds `samples` images as UInt8, `labels` their classes;
    /// the first is at `firstSample` in the step's global batch.
    private func computeShard(
        weights: UnsafeBufferPointer<Float>, pixels: UnsafeBufferPointer<UInt8>,
        labels: UnsafeBufferPointer<UInt8>, samples: Int, step: UInt64, firstSample: UInt64,
        into gradient: UnsafeMutableBufferPointer<Float>
    ) -> ShardResult {
        precondition(samples > 0 && samples <= shardSize)
        let width = samples * architecture.inputSize
        let scaled = UnsafeMutableBufferPointer(rebasing: inputs[0..<width])
        var source = UnsafeBufferPointer(rebasing: pixels[0..<width])
        if let shift, let shifted {
            shift.apply(source.baseAddress!, into: shifted.baseAddress!, samples: samples, step: step, firstSample: firstSample)
            source = UnsafeBufferPointer(rebasing: shifted[0..<width])
        }
        PixelScaling.normalise(source, into: scaled)
        let result = workspace.computeGradient(
            parameters: weights, inputs: UnsafeBufferPointer(scaled),
            labels: UnsafeBufferPointer(rebasing: labels[0..<samples]),
            batch: samples, gradient: gradient, step: step, firstSample: firstSample)
        return ShardResult(lossSum: result.lossSum, correct: result.correct, samples: samples)
    }
}
