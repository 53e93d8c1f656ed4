import Clock
import Collective
import MLP

/// The update in this process: the source's fixed-point gradient sum is
/// averaged and the optimiser applied here. `train` pairs it with a
/// LocalGradientSource, the central coordinator with its workers.
public final class AveragingUpdater: ParameterUpdater {
    private let source: GradientSource
    /// Lent to the source while it sends them; written only once it has settled them.
    private let parameters: LendableBuffer<Float>
    private let optimiser: Optimiser
    private let clipping: GradientClipping
    private let sum: GradientSum
    private let meanGradient: UnsafeMutableBufferPointer<Float>
    private var computeNanoseconds: UInt64 = 0
    public private(set) var lastGradientNorm: Double?

    public convenience init(source: GradientSource, configuration: TrainingConfiguration) {
        self.init(source: source, parameterCount: configuration.architecture.parameterCount,
                  optimiser: configuration.optimiser, clipping: configuration.clipping)
    }

    public init(source: GradientSource, parameterCount: Int, optimiser settings: OptimiserSettings,
                clipping: GradientClipping = GradientClipping()) {
        self.source = source
        self.clipping = clipping
        parameters = LendableBuffer(count: parameterCount, repeating: 0)
        optimiser = makeOptimiser(parameterCount: parameterCount, settings: settings)
        sum = GradientSum(parameterCount: parameterCount)
        meanGradient = .allocate(capacity: parameterCount)
    }

    deinit { meanGradient.deallocate() }

    public var workerCount: Int { source.workerCount }

    /// `next` is not used: each step's work carries the weights of the step before.
    public func step(_ work: StepWork, learningRate: Float, next: UpcomingStep?) throws -> StepTally {
        sum.reset()
        let started = monotonicNanoseconds()
        try source.compute(work, weights: parameters, into: sum)
        computeNanoseconds += monotonicNanoseconds() - started
        var tally = StepTally(sum)
        guard tally.finite else { return tally }
        var scale: Float = 1
        if clipping.maxNorm != nil {
            // The norm needs the whole sum before any of it is applied.
            let norm = SquaredNorm(of: UnsafeBufferPointer(sum.values)).norm(sampleCount: sum.samples)
            tally.gradientNorm = norm
            scale = clipping.scale(norm: norm)
        }
        let squares = try parameters.write { parameters in
            applyAveragedUpdate(
                sums: UnsafeBufferPointer(sum.values), sampleCount: sum.samples, range: 0..<parameters.count,
                optimiser: optimiser, parameters: parameters, mean: meanGradient, learningRate: learningRate,
                step: work.globalStep, clipping: clipping, scale: scale)
        }
        // With --clip-norm, the norm every collective gives (the ring has no other).
        lastGradientNorm = tally.gradientNorm ?? squares.squareRoot()
        return tally
    }

    /// Time in `compute`, which for a local source is all gradient work (a
    /// coordinator times its workers' compute itself).
    public func takeComputeNanoseconds() -> UInt64 {
        defer { computeNanoseconds = 0 }
        return computeNanoseconds
    }

    public func state() throws -> ModelState {
        ModelState(weights: parameters.readOnly, velocity: optimiser.state.readOnly)
    }

    public func load(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>, step: Int) throws {
        try parameters.write { _ = $0.update(fromContentsOf: weights) }
        _ = optimiser.state.values.update(fromContentsOf: velocity)
    }
}
