import Clock
import Collective
import Datasets
import Foundation
import MLP

/// Epochs of synchronous SGD steps around a ParameterUpdater. The same loop
/// drives `train` and the coordinator of either collective; only the updater differs.
/// It owns the step counter: every other part is told which step it takes.
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
    private let updater: ParameterUpdater
    private let run: RunDirectory
    private let checkpointEvery: Int
    private let plan: BatchPlan
    private let evaluator: Evaluator
    private let output: Output
    /// The progress line and the TensorBoard log.
    private let observers: [TrainingObserver]
    private var epoch = 0
    private var stepInEpoch = 0
    private var totals = EpochTotals()
    private var stopping: EarlyStopping
    private var elapsedBefore: UInt64 = 0
    private var shardRanges: [Range<Int>] = []
    private var nextShardRanges: [Range<Int>] = []
    /// The last epoch's figures: the final result under --quiet.
    private var lastMetrics: EpochMetrics?

    /// `resume`: a checkpoint already checked against this configuration.
    public init(
        configuration: TrainingConfiguration, data: TrainingData, updater: ParameterUpdater,
        run: RunDirectory, checkpointEvery: Int = 0, resume: Checkpoint? = nil, output: Output,
        observers: [TrainingObserver] = []
    ) throws {
        self.configuration = configuration
        self.data = data
        self.updater = updater
        self.run = run
        self.checkpointEvery = checkpointEvery
        self.output = output
        self.observers = observers
        stopping = EarlyStopping(patience: configuration.earlyStoppingPatience)
        let architecture = configuration.architecture
        plan = try BatchPlan(sampleCount: data.train.count, batchSize: configuration.batchSize,
                             shardSize: configuration.shardSize)
        evaluator = Evaluator(architecture: architecture)
        if let resume {
            try restore(resume)
        } else {
            let initial = ParameterBuffer.initialised(architecture, seed: configuration.seed)
            let velocity = ParameterBuffer(count: configuration.optimiser.statePlanes * architecture.parameterCount)
            try updater.load(weights: initial.readOnly, velocity: velocity.readOnly, step: 0)
        }
    }

    /// What a checkpoint must match to continue this run.
    public static func settings(_ configuration: TrainingConfiguration, data: TrainingData) -> [String: String] {
        configuration.settings.merging(["train-samples": String(data.train.count)]) { $1 }
    }

    /// Trains to the last epoch, or until `stopSignal` returns a signal number
    /// (then writes a checkpoint first).
    public func train(stopSignal: () -> Int32?) throws -> Outcome {
        try run.resetMetrics(keepingEpochsThrough: epoch)
        let started = monotonicNanoseconds() - elapsedBefore
        if stoppedEarly { return .finished }
        while epoch < configuration.epochs {
            let order = EpochOrder.permutation(count: data.train.count, seed: configuration.seed, epoch: epoch)
            _ = updater.takeComputeNanoseconds()
            while stepInEpoch < plan.stepsPerEpoch {
                if let signal = stopSignal() {
                    try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
                    return .stopped(signal: signal)
                }
                do {
                    try step(order: order)
                } catch let stop as StopRequested {
                    try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
                    return .stopped(signal: stop.signal)
                } catch let error as ResumableFailure {
                    try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
                    throw TrainingError.interrupted(reason: "\(error)", run: run.url.path)
                }
                if checkpointEvery > 0, globalStep % checkpointEvery == 0, stepInEpoch < plan.stepsPerEpoch {
                    try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
                }
            }
            try finishEpoch(elapsed: monotonicNanoseconds() - started)
            try writeCheckpoint(elapsed: monotonicNanoseconds() - started)
            if stoppedEarly {
                output.people("early stopping: no lower validation loss for \(epoch - stopping.bestEpoch) epochs; model.safetensors holds epoch \(stopping.bestEpoch)'s weights")
                if output.quiet, let last = lastMetrics { output.result(last.terminalLine) }
                return .finished
            }
        }
        // With validation, model.safetensors already holds the best epoch's weights.
        if data.validation == nil || stopping.bestEpoch == 0 { try writeModel() }
        if output.quiet, let last = lastMetrics { output.result(last.terminalLine) }
        return .finished
    }

    /// Whether the patience ran out at the last epoch's end.
    private var stoppedEarly: Bool {
        guard let patience = stopping.patience, stopping.bestEpoch > 0 else { return false }
        return epoch - stopping.bestEpoch >= patience
    }

    private var globalStep: Int { epoch * plan.stepsPerEpoch + stepInEpoch }

    private func step(order: [Int32]) throws {
        let rate = configuration.schedule.rate(
            base: configuration.baseLearningRate, epoch: epoch, globalStep: globalStep,
            stepsPerEpoch: plan.stepsPerEpoch)
        let stepStarted = monotonicNanoseconds()
        // Refilled in place: once warm, a step allocates nothing here.
        shardRanges.removeAll(keepingCapacity: true)
        for shard in 0..<plan.shardCount(step: stepInEpoch) {
            shardRanges.append(plan.shardRange(step: stepInEpoch, shard: shard))
        }
        let tally = try updater.step(
            StepWork(globalStep: globalStep, shards: shardRanges, order: order), learningRate: rate,
            next: upcoming(order: order))
        guard tally.finite else {
            for observer in observers { observer.flush() }
            throw TrainingError.diverged(epoch: epoch + 1, step: globalStep)
        }
        let stepNanoseconds = monotonicNanoseconds() - stepStarted
        let computeNanoseconds = updater.takeComputeNanoseconds()
        totals.stepNanoseconds += stepNanoseconds
        totals.computeNanoseconds += computeNanoseconds
        totals.lossSum += tally.lossSum
        totals.correct += tally.correct
        totals.samples += tally.samples
        totals.learningRate = rate
        totals.steps += 1
        if let norm = tally.gradientNorm {
            totals.gradientNormSum += norm
            totals.gradientNormMax = max(totals.gradientNormMax, norm)
            if configuration.clipping.scale(norm: norm) < 1 { totals.clippedSteps += 1 }
        }
        output.debug("step \(globalStep) done (epoch \(epoch + 1), step \(stepInEpoch + 1) of \(plan.stepsPerEpoch))")
        stepInEpoch += 1
        guard !observers.isEmpty else { return }
        let samples = Double(max(tally.samples, 1)), epochSamples = Double(max(totals.samples, 1))
        let report = StepReport(
            epoch: epoch + 1, epochs: configuration.epochs, stepInEpoch: stepInEpoch, stepsPerEpoch: plan.stepsPerEpoch,
            globalStep: globalStep, loss: tally.lossSum / samples, accuracy: Double(tally.correct) / samples,
            samples: tally.samples, learningRate: rate, workers: updater.workerCount, stepNanoseconds: stepNanoseconds,
            computeNanoseconds: computeNanoseconds, gradientNorm: updater.lastGradientNorm,
            epochLoss: totals.lossSum / epochSamples, epochAccuracy: Double(totals.correct) / epochSamples,
            epochSamples: totals.samples, epochStepNanoseconds: totals.stepNanoseconds)
        for observer in observers { observer.stepFinished(report) }
    }

    /// The next step, if nothing but it comes next: not across an epoch's
    /// end or a checkpoint, where the state is read between the two steps.
    private func upcoming(order: [Int32]) -> UpcomingStep? {
        let next = stepInEpoch + 1
        guard next < plan.stepsPerEpoch, checkpointEvery == 0 || (globalStep + 1) % checkpointEvery != 0 else { return nil }
        nextShardRanges.removeAll(keepingCapacity: true)
        for shard in 0..<plan.shardCount(step: next) {
            nextShardRanges.append(plan.shardRange(step: next, shard: shard))
        }
        let rate = configuration.schedule.rate(
            base: configuration.baseLearningRate, epoch: epoch, globalStep: globalStep + 1,
            stepsPerEpoch: plan.stepsPerEpoch)
        return UpcomingStep(work: StepWork(globalStep: globalStep + 1, shards: nextShardRanges, order: order), learningRate: rate)
    }

    private func finishEpoch(elapsed: UInt64) throws {
        let test = evaluator.evaluate(try updater.state().weights, on: data.test)
        let stepSeconds = Double(max(totals.stepNanoseconds, 1)) / 1e9
        var metrics = EpochMetrics(
            epoch: epoch + 1, step: globalStep,
            loss: totals.lossSum / Double(totals.samples), trainAccuracy: Double(totals.correct) / Double(totals.samples),
            testLoss: test.loss, testAccuracy: test.accuracy, learningRate: Double(totals.learningRate),
            samplesPerSecond: Double(totals.samples) / stepSeconds, workers: updater.workerCount,
            elapsedSeconds: Double(elapsed) / 1e9,
            communicationFraction: updater.workerCount > 1
                ? max(0, 1 - Double(totals.computeNanoseconds) / Double(max(totals.stepNanoseconds, 1))) : nil)
        if let validation = data.validation {
            let scores = evaluator.evaluate(try updater.state().weights, on: validation)
            metrics.validationLoss = scores.loss
            metrics.validationAccuracy = scores.accuracy
            // The best epoch's weights become the model as soon as they are known.
            if stopping.record(epoch: epoch + 1, loss: scores.loss).improved { try writeModel() }
        }
        if configuration.clipping.maxNorm != nil {
            metrics.gradientNorm = GradientNormSummary(
                mean: totals.gradientNormSum / Double(max(totals.steps, 1)), max: totals.gradientNormMax,
                clippedFraction: Double(totals.clippedSteps) / Double(max(totals.steps, 1)))
        }
        try run.append(metrics)
        for observer in observers { observer.epochFinished(metrics) }
        output.epoch(metrics)
        lastMetrics = metrics
        epoch += 1
        stepInEpoch = 0
        totals = EpochTotals()
    }

    public func writeModel() throws {
        let file = ModelFile.encode(try updater.state().weights, architecture: configuration.architecture)
        try AtomicFile.write(file.encoded(), to: run.modelURL)
    }

    private func writeCheckpoint(elapsed: UInt64) throws {
        var progress = totals.progress.merging(stopping.progress) { $1 }
        progress["elapsed_ns"] = String(elapsed)
        let state = try updater.state()
        let checkpoint = Checkpoint(
            architecture: configuration.architecture, settings: Self.settings(configuration, data: data),
            epoch: epoch, stepInEpoch: stepInEpoch, globalStep: globalStep,
            weights: Array(state.weights), velocity: Array(state.velocity), progress: progress)
        try checkpoint.write(to: run.checkpointURL)
        for observer in observers { observer.flush() }
    }

    private func restore(_ checkpoint: Checkpoint) throws {
        guard checkpoint.stepInEpoch <= plan.stepsPerEpoch,
              checkpoint.globalStep == checkpoint.epoch * plan.stepsPerEpoch + checkpoint.stepInEpoch,
              let restored = EpochTotals(progress: checkpoint.progress) else {
            throw CheckpointError(file: run.checkpointURL.path, problem: "its position (epoch \(checkpoint.epoch), step \(checkpoint.stepInEpoch)) does not fit this run")
        }
        try checkpoint.weights.withUnsafeBufferPointer { weights in
            try checkpoint.velocity.withUnsafeBufferPointer {
                try updater.load(weights: weights, velocity: $0, step: checkpoint.globalStep)
            }
        }
        epoch = checkpoint.epoch
        stepInEpoch = checkpoint.stepInEpoch
        totals = restored
        elapsedBefore = checkpoint.progress["elapsed_ns"].flatMap(UInt64.init) ?? 0
        stopping.restore(checkpoint.progress)
    }
}
