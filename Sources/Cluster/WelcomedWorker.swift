import Collective
import MLP
import Wire

/// A worker's compute state once a coordinator has welcomed it, sized by
/// the welcome: it turns each work message into a gradient reply.
final class WelcomedWorker {
    let limits: DecodingLimits
    let computer: ShardGradientComputer
    let parameterCount: Int
    private let sum: GradientSum
    /// Packing pays where bytes cross a network (1.3-1.6x the throughput of
    /// shaped 1 Gbit/s and 100 Mbit/s links); through a Unix socket on the
    /// same machine its two extra passes cost about what they save.
    private let packGradients: Bool
    private let blockWidths: UnsafeMutableBufferPointer<UInt8>
    private let gradient = ZMQMessage()

    init(_ welcome: Welcome, packGradients: Bool) throws {
        self.packGradients = packGradients
        let architecture: Architecture
        do {
            architecture = try Architecture(
                layerSizes: welcome.layerSizes.map(Int.init), activation: Activation(name: welcome.activation),
                loss: Loss(name: welcome.loss))
        } catch {
            throw ClusterError.incompatibleCoordinator("its welcome describes a network this worker cannot build: \(error)")
        }
        limits = Membership.limits(architecture, shardSize: Int(welcome.shardSize))
        computer = ShardGradientComputer(architecture: architecture, shardSize: Int(welcome.shardSize))
        parameterCount = architecture.parameterCount
        sum = GradientSum(parameterCount: parameterCount)
        blockWidths = .allocate(capacity: parameterCount / PackedInt64s.blockLength + 1)
    }

    deinit { blockWidths.deallocate() }

    func answer(_ work: Work, betweenShards: () -> Void) throws -> WireMessage {
        let started = monotonicNanoseconds()
        // Fresh content in the same frame object: the last reply's content
        // stays with libzmq until it has gone out, however soon this runs again.
        // A raw reply is summed straight into that frame (no copy of 4 MB);
        // a packed one is packed from the sum, mostly 4 bytes a value.
        var inFrame: UnsafeMutableBufferPointer<Int64>?
        if !packGradients {
            try gradient.reinitialise(size: parameterCount * 8)
            inFrame = gradient.elementsInPlace(of: Int64.self)
        }
        sum.reset(storage: inFrame)
        compute(work, into: sum, betweenShards: betweenShards)
        let values = UnsafeBufferPointer(sum.values)
        if packGradients {
            try gradient.reinitialise(size: PackedInt64s.measure(values, widths: blockWidths))
            gradient.withUnsafeMutableBytes { PackedInt64s.pack(values, widths: UnsafeBufferPointer(blockWidths), into: $0) }
        } else if inFrame == nil {
            gradient.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(values)) }
        }
        let (lossFixed, correct, samples) = (sum.finite ? sum.lossFixed : FixedPoint.nonFiniteLoss, sum.correct, sum.samples)
        let reply = Gradient(
            step: work.step, weightVersion: work.weightVersion, lossSumFixedPoint: lossFixed,
            correct: UInt32(correct), sampleCount: UInt32(samples),
            computeNanoseconds: monotonicNanoseconds() - started,
            shardIDs: ShardIDs(of: work.shards), gradient: gradient, encoding: packGradients ? .packed : .raw)
        return .gradient(reply)
    }

    private func compute(_ work: Work, into sum: GradientSum, betweenShards: () -> Void) {
        work.withWeights { weights in
            work.withPixels { pixels in
                work.withLabels { labels in
                    computer.addShards(
                        weights: weights, pixels: pixels, labels: labels,
                        sampleCounts: work.shards.lazy.map { Int($0.sampleCount) }, into: sum, betweenShards: betweenShards)
                }
            }
        }
    }
}
