import Collective
import MLP

/// One step's loss and counts. The loss stays on the fixed-point grid, so
/// its sum does not depend on who added which part.
public struct StepTally: Equatable {
    public var lossFixed: Int64 = 0
    public var correct = 0
    public var samples = 0
    /// The averaged gradient's L2 norm before clipping, when --clip-norm asked for it.
    public var gradientNorm: Double?

    public init() {}

    /// A sum's loss and counts, and whether its gradient was finite.
    public init(_ sum: GradientSum) {
        add(lossFixed: sum.finite ? sum.lossFixed : FixedPoint.nonFiniteLoss, correct: sum.correct, samples: sum.samples)
    }

    public mutating func add(lossFixed loss: Int64, correct: Int, samples: Int) {
        lossFixed = FixedPoint.add(loss: lossFixed, loss)
        self.correct += correct
        self.samples += samples
    }

    /// False if any gradient or loss was NaN or infinite (the loss then
    /// holds the sentinel every part of dptrain uses for it); the update was
    /// then not applied.
    public var finite: Bool { lossFixed != FixedPoint.nonFiniteLoss }

    public var lossSum: Double { FixedPoint.decode(loss: lossFixed) }
}

/// The step the loop will take after the current one, unless it is
/// stopped: a collective may send its data out ahead, so that workers
/// receive it while they still compute the current step.
public struct UpcomingStep {
    public var work: StepWork
    public var learningRate: Float

    public init(work: StepWork, learningRate: Float) {
        self.work = work
        self.learningRate = learningRate
    }
}

/// Weights and optimiser state as one step left them.
public struct ModelState {
    public var weights: UnsafeBufferPointer<Float>
    /// The optimiser's state planes (`OptimiserSettings.statePlanes` × the
    /// parameter count): SGD's velocity, or Adam's first and second moments.
    public var velocity: UnsafeBufferPointer<Float>

    public init(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>) {
        self.weights = weights
        self.velocity = velocity
    }
}

/// How a step's gradient becomes new weights: in this process from a
/// GradientSource (`train`, and the central coordinator), or on the workers
/// themselves (the ring). The training loop around it is the same either
/// way, and so are the bits it produces.
public protocol ParameterUpdater: AnyObject {
    /// Live workers (1 when this process computes alone).
    var workerCount: Int { get }
    /// Computes the gradient of `work` and, if it is finite, applies the optimiser at
    /// `learningRate`. `next`, when given, is the step that follows.
    func step(_ work: StepWork, learningRate: Float, next: UpcomingStep?) throws -> StepTally
    /// Nanoseconds spent in gradient computation since the last call (for comm_fraction).
    func takeComputeNanoseconds() -> UInt64
    /// Weights and velocity after the last step (a ring gathers them from its members first).
    func state() throws -> ModelState
    /// Starts from these weights and velocity, as they are before global
    /// step `step`: a new run's (0), or a checkpoint's.
    func load(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>, step: Int) throws
    /// L2 norm of the last step's averaged gradient, where this process has
    /// it (nil for the ring, whose gradient stays on the workers).
    var lastGradientNorm: Double? { get }
}

extension ParameterUpdater {
    public var lastGradientNorm: Double? { nil }
}
