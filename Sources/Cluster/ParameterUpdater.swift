import Collective
import MLP

/// One step's loss and counts. The loss stays on the fixed-point grid, so
/// its sum does not depend on who added which part.
public struct StepTally: Equatable {
    public var lossFixed: Int64 = 0
    public var correct = 0
    public var samples = 0
    /// False if any gradient or loss was NaN or infinite; the update was then not applied.
    public var finite = true

    public init() {}

    public mutating func add(lossFixed loss: Int64, correct: Int, samples: Int) {
        lossFixed = FixedPoint.add(loss: lossFixed, loss)
        if lossFixed == FixedPoint.nonFiniteLoss { finite = false }
        self.correct += correct
        self.samples += samples
    }

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

/// Weights and momentum as one step left them.
public struct ModelState {
    public var weights: UnsafeBufferPointer<Float>
    public var velocity: UnsafeBufferPointer<Float>
}

/// How a step's gradient becomes new weights: in this process from a
/// GradientSource (`train`, and the coordinator of the central collective),
/// or on the workers themselves (the ring). The training loop around it is
/// the same either way, and so are the bits it produces.
public protocol ParameterUpdater: AnyObject {
    /// Live workers (1 when this process computes alone).
    var workerCount: Int { get }
    /// Computes the gradient of `work` and, if it is finite, applies SGD at
    /// `learningRate`. `next`, when given, is the step that follows.
    func step(_ work: StepWork, learningRate: Float, next: UpcomingStep?) throws -> StepTally
    /// Nanoseconds spent in gradient computation since the last call (for comm_fraction).
    func takeComputeNanoseconds() -> UInt64
    /// Weights and velocity after the last step (a ring gathers them from its members first).
    func state() throws -> ModelState
    /// Starts from these weights and velocity, as they are before global
    /// step `step`: a new run's (0), or a checkpoint's.
    func load(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>, step: Int) throws
}
