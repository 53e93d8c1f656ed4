import Collective
import Datasets
import Foundation
import MLP

/// Epochs of synchronous SGD steps around a GradientSource. The same loop
/// drives `train` and the coordinator; only the source differs.
///
/// Its whole state is (weights, momentum, epoch, step in epoch, the epoch's
/// running totals): data order is a pure function of (seed, epoch) and the
/// learning rate of the position, so a checkpoint of that state resumes the
/// run exactly where it stopped.
public final class TrainingLoop {
    public enum Outcome: Equatable {
        case finished
        case stopped(signal: Int32)
    }

    public let configuration: TrainingConfiguration
    private let data: TrainingData
    private let source: GradientSource
    private let run: RunDirectory
    private let checkpointEvery: Int
    private let plan: BatchPlan
    private let parameters: ParameterBuffer
    private let optimiser: SGD
    private let sum: GradientSum
    private let meanGradient: UnsafeMutableBufferPointer<Float>
    private let evaluator: Evaluator
    private let say: (String) -> Void
    private var epoch = 0
    private var stepInEpoch = 0
    private var totals = EpochTotals()
    private var elapsedBefore: UInt64 = 0
    private var shardRanges: [Range<Int>] = []

    /// `resume`: a checkpoint already checked against this configuration.
    public init(
        configuration: TrainingConfiguration, data: TrainingData, source: GradientSource,
        run: RunDirectory, checkpointEvery: Int = 0, resume: Checkpoint? = nil, say: @escaping (String) -> Void
    ) throws {
        self.configuration = configuration
        self.data = data
        self.source = source
        self.run = run
        self.checkpointEvery = checkpointEvery
        self.say = say
        let architecture = configuration.architecture
        plan = try BatchPlan(sampleCount: data.train.count, batchSize: configuration.batchSize,
                             shardSize: configuration.shardSize)
        parameters = ParameterBuffer.initialised(architecture, seed: configuration.seed)
        optimiser = SGD(parameterCount: architecture.parameterCount, settings: configuration.optimiser)
        sum = GradientSum(parameterCount: architecture.parameterCount)
        meanGradient = .allocate(capacity: architecture.parameterCount)
        evaluator = Evaluator(architecture: architecture)
        if let resume { try restore(resume) }
    }

    deinit { meanGradient.deallocate() }

    public var weights: UnsafeBufferPointer<Float> { UnsafeBufferPointer(parameters.values) }

    /// What a checkpoint must match to continue this run.
    public static func settings(_ configuration: TrainingConfiguration, data: TrainingData) -> [String: String] {
        configuration.settings.merging(["train-samples": String(data.train.count)]) { $1 }
    }

    /// Trains to the last epoch, or until `stopSignal` returns a signal number
    /// (then writes a checkpoint first).
    public func train(stopSignal: () -> Int32?) throws -> Outcome {
        try run.resetMetrics(keepingEpochsThrough: epoch)
        let started = monotonicNanoseconds() - elapsedBefore
        while epoch < configuration.epochs {
            let order = EpochOrder.permutation(count: data.train.count, seed: configuration.seed, epoch: epoch)
            _ = source.takeComputeNanoseconds()
            while stepInEpoch < plan.stepsPerEpoch {
                if let signal = stopSignal() {
                    try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
                    return .stopped(signal: signal)
                }
                do {
                    try step(order: order)
                } catch ClusterError.stopped(let signal) {
                    // The step was abandoned before its update: the state is still consistent.
                    try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
                    return .stopped(signal: signal)
                } catch let error as ClusterError where error.leavesRunResumable {
                    try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
                    throw TrainingError.interrupted(reason: "\(error)", run: run.url.path)
                }
                if checkpointEvery > 0, globalStep % checkpointEvery == 0, stepInEpoch < plan.stepsPerEpoch {
                    try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
                }
            }
            try finishEpoch(elapsed: monotonicNanoseconds() - started)
            try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
        }
        try writeModel()
        return .finished
    }

    private var globalStep: Int { epoch * plan.stepsPerEpoch + stepInEpoch }

    private func step(order: [Int32]) throws {
        let rate = configuration.schedule.rate(
            base: configuration.baseLearningRate, epoch: epoch, globalStep: globalStep,
            stepsPerEpoch: plan.stepsPerEpoch)
        let stepStarted = monotonicNanoseconds()
        sum.reset()
        // Refilled in place: once warm, a step allocates nothing here.
        shardRanges.removeAll(keepingCapacity: true)
        for shard in 0..<plan.shardCount(step: stepInEpoch) {
            shardRanges.append(plan.shardRange(step: stepInEpoch, shard: shard))
        }
        try source.compute(
            StepWork(globalStep: globalStep, shards: shardRanges, order: order),
            weights: weights, into: sum)
        guard sum.finite else { throw TrainingError.diverged(epoch: epoch + 1, step: globalStep) }
        sum.average(into: meanGradient)
        optimiser.step(parameters: parameters.values, gradient: UnsafeBufferPointer(meanGradient), learningRate: rate)
        totals.stepNanoseconds += monotonicNanoseconds() - stepStarted
        totals.computeNanoseconds += source.takeComputeNanoseconds()
        totals.lossSum += sum.lossSum
        totals.correct += sum.correct
        totals.samples += sum.samples
        totals.learningRate = rate
        stepInEpoch += 1
    }

    private func finishEpoch(elapsed: UInt64) throws {
        let test = evaluator.evaluate(weights, on: data.test)
        let stepSeconds = Double(max(totals.stepNanoseconds, 1)) / 1e9
        let metrics = EpochMetrics(
            epoch: epoch + 1, step: globalStep,
            loss: totals.lossSum / Double(totals.samples), trainAccuracy: Double(totals.correct) / Double(totals.samples),
            testLoss: test.loss, testAccuracy: test.accuracy, learningRate: Double(totals.learningRate),
            samplesPerSecond: Double(totals.samples) / stepSeconds, workers: source.workerCount,
            elapsedSeconds: Double(elapsed) / 1e9,
            communicationFraction: source.workerCount > 1
                ? max(0, 1 - Double(totals.computeNanoseconds) / Double(max(totals.stepNanoseconds, 1))) : nil)
        try run.append(metrics)
        say(metrics.terminalLine)
        epoch += 1
        stepInEpoch = 0
        totals = EpochTotals()
    }

    public func writeModel() throws {
        let file = ModelFile.encode(weights, architecture: configuration.architecture)
        try AtomicFile.write(file.encoded(), to: run.modelURL)
    }

    private func writeCheckpoint(elapsed: UInt64) throws {
        var progress = totals.progress
        progress["elapsed_ns"] = String(elapsed)
        let checkpoint = Checkpoint(
            architecture: configuration.architecture, settings: Self.settings(configuration, data: data),
            epoch: epoch, stepInEpoch: stepInEpoch, globalStep: globalStep,
            weights: Array(parameters.values), velocity: Array(optimiser.velocity.values), progress: progress)
        try checkpoint.write(to: run.checkpointURL)
    }

    private func restore(_ checkpoint: Checkpoint) throws {
        guard checkpoint.stepInEpoch <= plan.stepsPerEpoch,
              checkpoint.globalStep == checkpoint.epoch * plan.stepsPerEpoch + checkpoint.stepInEpoch,
              let restored = EpochTotals(progress: checkpoint.progress) else {
            throw CheckpointError(file: run.checkpointURL.path, problem: "its position (epoch \(checkpoint.epoch), step \(checkpoint.stepInEpoch)) does not fit this run")
        }
        _ = parameters.values.update(fromContentsOf: checkpoint.weights)
        _ = optimiser.velocity.values.update(fromContentsOf: checkpoint.velocity)
        epoch = checkpoint.epoch
        stepInEpoch = checkpoint.stepInEpoch
        totals = restored
        elapsedBefore = checkpoint.progress["elapsed_ns"].flatMap(UInt64.init) ?? 0
    }
}

public enum TrainingError: Error, CustomStringConvertible {
    case diverged(epoch: Int, step: Int)
    case interrupted(reason: String, run: String)

    public var description: String {
        switch self {
        case .diverged(let epoch, let step):
            return "training diverged: non-finite gradient or loss in epoch \(epoch), step \(step); lower --lr"
        case .interrupted(let reason, let run):
            return "\(reason); checkpoint written: run the same command with --resume \(run) to continue"
        }
    }
}
