import Collective
import MLP

/// The update in this process: the source's fixed-point gradient sum is
/// averaged and SGD applied here. `train` pairs it with a LocalGradientSource,
/// the coordinator of the central collective with a WorkerPool.
public final class CentralUpdater: ParameterUpdater {
    private let source: GradientSource
    private let parameters: ParameterBuffer
    private let optimiser: SGD
    private let sum: GradientSum
    private let meanGradient: UnsafeMutableBufferPointer<Float>

    public convenience init(source: GradientSource, configuration: TrainingConfiguration) {
        self.init(source: source, parameterCount: configuration.architecture.parameterCount,
                  optimiser: configuration.optimiser)
    }

    public init(source: GradientSource, parameterCount: Int, optimiser settings: SGDSettings) {
        self.source = source
        parameters = ParameterBuffer(count: parameterCount)
        optimiser = SGD(parameterCount: parameterCount, settings: settings)
        sum = GradientSum(parameterCount: parameterCount)
        meanGradient = .allocate(capacity: parameterCount)
    }

    deinit { meanGradient.deallocate() }

    public var workerCount: Int { source.workerCount }

    /// `next` is not used: each step's work carries the weights of the step before.
    public func step(_ work: StepWork, learningRate: Float, next: UpcomingStep?) throws -> StepTally {
        sum.reset()
        try source.compute(work, weights: UnsafeBufferPointer(parameters.values), into: sum)
        var tally = StepTally()
        tally.add(lossFixed: sum.lossFixed, correct: sum.correct, samples: sum.samples)
        tally.finite = tally.finite && sum.finite
        guard tally.finite else { return tally }
        applyAveragedUpdate(
            sums: UnsafeBufferPointer(sum.values), sampleCount: sum.samples, range: 0..<parameters.count,
            optimiser: optimiser, parameters: parameters.values, mean: meanGradient, learningRate: learningRate)
        return tally
    }

    public func takeComputeNanoseconds() -> UInt64 { source.takeComputeNanoseconds() }

    public func state() throws -> ModelState {
        ModelState(weights: UnsafeBufferPointer(parameters.values), velocity: UnsafeBufferPointer(optimiser.velocity.values))
    }

    public func load(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>, step: Int) throws {
        _ = parameters.values.update(fromContentsOf: weights)
        _ = optimiser.velocity.values.update(fromContentsOf: velocity)
    }
}
