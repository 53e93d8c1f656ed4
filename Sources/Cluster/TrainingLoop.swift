import Collective
import Datasets
import Foundation
import MLP

/// Epochs of synchronous SGD steps around a GradientSource. The same loop
/// drives `train` and the coordinator; only the source differs.
public final class TrainingLoop {
    public enum Outcome: Equatable {
        case finished
        case stopped(signal: Int32)
    }

    public let configuration: TrainingConfiguration
    private let data: TrainingData
    private let source: GradientSource
    private let run: RunDirectory
    private let plan: BatchPlan
    private let parameters: ParameterBuffer
    private let optimiser: SGD
    private let sum: GradientSum
    private let meanGradient: UnsafeMutableBufferPointer<Float>
    private let evaluator: Evaluator
    private let say: (String) -> Void

    public init(
        configuration: TrainingConfiguration, data: TrainingData, source: GradientSource,
        run: RunDirectory, say: @escaping (String) -> Void
    ) throws {
        self.configuration = configuration
        self.data = data
        self.source = source
        self.run = run
        self.say = say
        let architecture = configuration.architecture
        plan = try BatchPlan(sampleCount: data.train.count, batchSize: configuration.batchSize,
                             shardSize: configuration.shardSize)
        parameters = ParameterBuffer.initialised(architecture, seed: configuration.seed)
        optimiser = SGD(parameterCount: architecture.parameterCount, settings: configuration.optimiser)
        sum = GradientSum(parameterCount: architecture.parameterCount)
        meanGradient = .allocate(capacity: architecture.parameterCount)
        evaluator = Evaluator(architecture: architecture)
    }

    deinit { meanGradient.deallocate() }

    public var weights: UnsafeBufferPointer<Float> { UnsafeBufferPointer(parameters.values) }

    /// Trains to the last epoch, or until `stopSignal` returns a signal number.
    public func train(stopSignal: () -> Int32?) throws -> Outcome {
        try run.resetMetrics()
        let started = monotonicNanoseconds()
        for epoch in 0..<configuration.epochs {
            let order = EpochOrder.permutation(count: data.train.count, seed: configuration.seed, epoch: epoch)
            var lossSum = 0.0, correct = 0, samples = 0
            var rate: Float = 0
            var stepNanoseconds: UInt64 = 0
            _ = source.takeComputeNanoseconds()
            for step in 0..<plan.stepsPerEpoch {
                if let signal = stopSignal() { return .stopped(signal: signal) }
                let globalStep = epoch * plan.stepsPerEpoch + step
                rate = configuration.schedule.rate(
                    base: configuration.baseLearningRate, epoch: epoch, globalStep: globalStep,
                    stepsPerEpoch: plan.stepsPerEpoch)
                let stepStarted = monotonicNanoseconds()
                sum.reset()
                try source.compute(
                    StepWork(globalStep: globalStep, shards: plan.shardRanges(step: step), order: order),
                    weights: weights, into: sum)
                guard sum.finite else { throw TrainingError.diverged(epoch: epoch + 1, step: globalStep) }
                sum.average(into: meanGradient)
                optimiser.step(parameters: parameters.values, gradient: UnsafeBufferPointer(meanGradient), learningRate: rate)
                stepNanoseconds += monotonicNanoseconds() - stepStarted
                lossSum += sum.lossSum
                correct += sum.correct
                samples += sum.samples
            }
            let computeNanoseconds = source.takeComputeNanoseconds()
            let test = evaluator.evaluate(weights, on: data.test)
            let now = monotonicNanoseconds()
            let metrics = EpochMetrics(
                epoch: epoch + 1, step: (epoch + 1) * plan.stepsPerEpoch,
                loss: lossSum / Double(samples), trainAccuracy: Double(correct) / Double(samples),
                testLoss: test.loss, testAccuracy: test.accuracy, learningRate: Double(rate),
                samplesPerSecond: Double(samples) / (Double(stepNanoseconds) / 1e9), workers: source.workerCount,
                elapsedSeconds: Double(now - started) / 1e9,
                communicationFraction: source.workerCount > 1 || computeNanoseconds < stepNanoseconds
                    ? max(0, 1 - Double(computeNanoseconds) / Double(max(stepNanoseconds, 1))) : nil)
            try run.append(metrics)
            say(metrics.terminalLine)
        }
        try writeModel()
        return .finished
    }

    public func writeModel() throws {
        let file = ModelFile.encode(weights, architecture: configuration.architecture)
        try AtomicFile.write(file.encoded(), to: run.modelURL)
    }
}

public enum TrainingError: Error, CustomStringConvertible {
    case diverged(epoch: Int, step: Int)

    public var description: String {
        switch self {
        case .diverged(let epoch, let step):
            return "training diverged: non-finite gradient or loss in epoch \(epoch), step \(step); lower --lr"
        }
    }
}
