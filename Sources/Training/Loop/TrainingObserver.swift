/// What the training loop tells whoever watches it: the progress line and
/// the TensorBoard log. Called on the loop's thread, between steps; an
/// observer must not allocate per step once warm (the hot loop's promise).
public protocol TrainingObserver: AnyObject {
    func stepFinished(_ step: StepReport)
    func epochFinished(_ metrics: EpochMetrics)
    /// Write what is buffered. Called after every checkpoint (so a resumed
    /// run, which starts at the checkpoint, neither repeats nor misses a
    /// record) and when a run diverges (its curves show how).
    func flush()
}

/// One step, as it ended.
public struct StepReport {
    /// 1-based, as epoch lines count.
    public var epoch: Int
    public var epochs: Int
    /// Steps of this epoch done, this one included.
    public var stepInEpoch: Int
    public var stepsPerEpoch: Int
    /// Steps done in the whole run, this one included: TensorBoard's x axis,
    /// and metrics.jsonl's "step" at an epoch's end.
    public var globalStep: Int
    /// This step's mean loss and accuracy over its samples.
    public var loss: Double
    public var accuracy: Double
    public var samples: Int
    public var learningRate: Float
    public var workers: Int
    public var stepNanoseconds: UInt64
    /// Gradient computation within the step (the slowest worker's, with workers).
    public var computeNanoseconds: UInt64
    /// L2 norm of the averaged gradient, where this process sees it.
    public var gradientNorm: Double?
    /// The epoch so far, this step included.
    public var epochLoss: Double
    public var epochAccuracy: Double
    public var epochSamples: Int
    public var epochStepNanoseconds: UInt64

    public init(
        epoch: Int, epochs: Int, stepInEpoch: Int, stepsPerEpoch: Int, globalStep: Int, loss: Double,
        accuracy: Double, samples: Int, learningRate: Float, workers: Int, stepNanoseconds: UInt64,
        computeNanoseconds: UInt64, gradientNorm: Double?, epochLoss: Double, epochAccuracy: Double,
        epochSamples: Int, epochStepNanoseconds: UInt64
    ) {
        self.epoch = epoch; self.epochs = epochs; self.stepInEpoch = stepInEpoch
        self.stepsPerEpoch = stepsPerEpoch; self.globalStep = globalStep; self.loss = loss
        self.accuracy = accuracy; self.samples = samples; self.learningRate = learningRate
        self.workers = workers; self.stepNanoseconds = stepNanoseconds
        self.computeNanoseconds = computeNanoseconds; self.gradientNorm = gradientNorm
        self.epochLoss = epochLoss; self.epochAccuracy = epochAccuracy; self.epochSamples = epochSamples
        self.epochStepNanoseconds = epochStepNanoseconds
    }

    /// Samples per second of step time over the epoch so far.
    public var epochSamplesPerSecond: Double {
        Double(epochSamples) / (Double(max(epochStepNanoseconds, 1)) / 1e9)
    }

    /// The epoch's remaining steps at the epoch's mean step time so far.
    public var secondsLeftInEpoch: Double {
        Double(epochStepNanoseconds) / 1e9 / Double(max(stepInEpoch, 1)) * Double(stepsPerEpoch - stepInEpoch)
    }
}
