import Clock
import Collective
import MLP
import Training
import Wire

/// A worker's part in the central collective: turns each work message into
/// the fixed-point gradient sum of its micro-shards, sent back as one reply.
final class CentralWorker: WorkerCollective {
    private let computer: ShardGradientComputer
    private let parameterCount: Int
    private let sum: GradientSum
    /// Packing pays where bytes cross a network (1.3-1.6x the throughput of
    /// shaped 1 Gbit/s and 100 Mbit/s links); through a Unix socket on the
    /// same machine its two extra passes cost about what they save.
    private let packGradients: Bool
    /// Over a network (where gradients are packed too) the weights of the
    /// last work, which the coordinator may then send as steps from them.
    private let held: UnsafeMutableBufferPointer<Float>?
    private var heldStep: UInt64?
    private let gradient = ZMQMessage()
    private let output: Output
    /// A test hook only (`worker --lie-offset`): added to every fixed-point
    /// value sent, to play a worker that lies.
    private let lieOffset: Int64

    init(computer: ShardGradientComputer, packGradients: Bool, lieOffset: Int64 = 0, output: Output) {
        self.computer = computer
        self.lieOffset = lieOffset
        self.packGradients = packGradients
        self.output = output
        parameterCount = computer.architecture.parameterCount
        sum = GradientSum(parameterCount: parameterCount)
        held = packGradients ? .allocate(capacity: parameterCount) : nil
    }

    deinit { held?.deallocate() }

    func handle(_ message: WireMessage, for worker: Worker) throws -> [ZMQMessage]? {
        guard case .work(let work) = message else {
            output.log("worker: ignoring unexpected \(message.kind)")
            return nil
        }
        // Weights first, so that what this worker holds is what the coordinator believes it holds.
        guard let weights = weights(of: work) else { return nil }
        if let label = work.withLabels(computer.firstLabelOutOfRange) {
            output.log("worker: refused the work of step \(work.step): label \(label) is outside the network's \(computer.architecture.outputSize) outputs")
            return nil
        }
        // A long block of shards must not look like silence to the coordinator.
        try worker.send(try answer(work, weights: weights) { worker.keepAlive() })
        StepLaunchTrace.mark(.ready, step: work.step)
        return nil
    }

    /// The weights `work` is for: its own frame (`.inFrame`), or, where later
    /// work may come as steps, a kept copy of them, the kept ones stepped, or
    /// the kept ones as they are. Nil (logged) for steps from, or a claim
    /// of, weights this worker does not hold.
    private func weights(of work: Work) -> Weights? {
        switch work.weightsEncoding {
        case .raw:
            guard let held else { return .inFrame }
            work.withWeights { _ = held.update(fromContentsOf: $0) }
            heldStep = work.step
            return .held(UnsafeBufferPointer(held))
        case .steps:
            guard let held, heldStep == work.baseStep else {
                return refused(work, "its weights are steps from step \(work.baseStep)'s")
            }
            work.applySteps(onto: held)
            heldStep = work.step
            return .held(UnsafeBufferPointer(held))
        case .held:
            guard let held, heldStep == work.step else { return refused(work, "it names that step's weights as held") }
            return .held(UnsafeBufferPointer(held))
        }
    }

    private func refused(_ work: Work, _ why: String) -> Weights? {
        output.log("worker: refused the work of step \(work.step): \(why), and this worker holds \(heldStep.map { "step \($0)'s" } ?? "no weights")")
        return nil
    }

    private enum Weights {
        /// The work's own raw frame, read where it lies.
        case inFrame
        case held(UnsafeBufferPointer<Float>)
    }

    private func answer(_ work: Work, weights: Weights, betweenShards: () -> Void) throws -> WireMessage {
        StepLaunchTrace.mark(.start, step: work.step)
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
        func compute(with weights: UnsafeBufferPointer<Float>) {
            work.withPixels { pixels in
                work.withLabels { labels in
                    computer.addShards(
                        weights: weights, pixels: pixels, labels: labels,
                        step: work.step, shards: work.shards.lazy.map { (id: Int($0.shardID), samples: Int($0.sampleCount)) },
                        into: sum, betweenShards: betweenShards)
                }
            }
        }
        switch weights {
        case .inFrame: work.withWeights { compute(with: $0) }
        case .held(let held): compute(with: held)
        }
        if lieOffset != 0 {
            for index in sum.values.indices { sum.values[index] &+= lieOffset }
        }
        let values = UnsafeBufferPointer(sum.values)
        if packGradients {
            try gradient.reinitialise(size: PackedInt64s.measure(values))
            gradient.withUnsafeMutableBytes { PackedInt64s.pack(values, intoFrameOfItsSize: $0) }
        } else if inFrame == nil {
            gradient.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(values)) }
        }
        let tally = StepTally(sum)
        let reply = Gradient(
            step: work.step, lossSumFixedPoint: tally.lossFixed, correct: UInt32(tally.correct),
            sampleCount: UInt32(tally.samples), computeNanoseconds: monotonicNanoseconds() - started,
            shardIDs: ShardIDs(of: work.shards), gradient: gradient, encoding: packGradients ? .packed : .raw)
        return .gradient(reply)
    }
}
