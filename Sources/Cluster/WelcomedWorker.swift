import Collective
import MLP
import Wire

/// A worker's compute state once a coordinator has welcomed it, sized by
/// the welcome: it turns each work message into a gradient reply.
final class WelcomedWorker {
    let limits: DecodingLimits
    let inputSize: Int
    let computer: ShardGradientComputer
    let parameterCount: Int

    init(_ welcome: Welcome) throws {
        guard let activation = Activation(rawValue: welcome.activation),
              let loss = Loss(rawValue: welcome.loss) else {
            throw ClusterError.incompatibleCoordinator(
                "its welcome names activation \(welcome.activation) and loss \(welcome.loss), unknown to this worker")
        }
        let architecture = try Architecture(
            layerSizes: welcome.layerSizes.map(Int.init), activation: activation, loss: loss)
        inputSize = architecture.inputSize
        limits = WorkerPool.limits(architecture, shardSize: Int(welcome.shardSize))
        computer = ShardGradientComputer(architecture: architecture, shardSize: Int(welcome.shardSize))
        parameterCount = architecture.parameterCount
    }

    func answer(_ work: Work, betweenShards: () -> Void) throws -> [ZMQMessage] {
        let started = monotonicNanoseconds()
        // The sum is built inside the outgoing frame: no copy before sending.
        let gradient = try ZMQMessage(size: parameterCount * MemoryLayout<Int64>.stride)
        let (lossFixed, correct, samples) = gradient.withUnsafeMutableElements(of: Int64.self) { buffer in
            let sum = GradientSum(wrapping: buffer)
            compute(work, into: sum, betweenShards: betweenShards)
            return (sum.finite ? sum.lossFixed : FixedPoint.nonFiniteLoss, sum.correct, sum.samples)
        }
        let reply = Gradient(
            step: work.step, weightVersion: work.weightVersion, lossSumFixedPoint: lossFixed,
            correct: UInt32(correct), sampleCount: UInt32(samples),
            computeNanoseconds: monotonicNanoseconds() - started,
            shardIDs: work.shards.map(\.shardID), gradient: gradient)
        return try WireMessage.gradient(reply).encode()
    }

    private func compute(_ work: Work, into sum: GradientSum, betweenShards: () -> Void) {
        work.withWeights { weights in
            work.withPixels { pixels in
                work.withLabels { labels in
                    var offset = 0
                    for shard in work.shards {
                        let samples = Int(shard.sampleCount)
                        computer.addShard(
                            weights: weights,
                            pixels: UnsafeBufferPointer(rebasing: pixels[(offset * inputSize)..<((offset + samples) * inputSize)]),
                            labels: UnsafeBufferPointer(rebasing: labels[offset..<(offset + samples)]),
                            samples: samples, into: sum)
                        offset += samples
                        betweenShards()
                    }
                }
            }
        }
    }
}
