import MLP

/// Everything that fixes a run's result. Two runs with equal configurations
/// write byte-identical models, whatever the number of workers.
public struct TrainingConfiguration {
    public var architecture: Architecture
    public var epochs: Int
    /// Samples per optimiser step, over all workers together.
    public var batchSize: Int
    /// Samples per micro-shard: the unit of work and of exact reduction.
    public var shardSize: Int
    public var baseLearningRate: Float
    public var optimiser: OptimiserSettings
    public var schedule: LearningRateSchedule
    public var seed: UInt64
    /// Dropout, label smoothing and augmentation: how workers compute gradients.
    public var gradientOptions = GradientOptions()
    /// Of the averaged gradient, before the optimiser.
    public var clipping = GradientClipping()
    /// Share of the training files held out for validation (0: none).
    public var validationFraction = 0.0
    /// Stop after this many epochs without a lower validation loss (nil: run every epoch).
    public var earlyStoppingPatience: Int?

    public init(
        architecture: Architecture, epochs: Int, batchSize: Int, shardSize: Int = 32,
        baseLearningRate: Float, optimiser: OptimiserSettings, schedule: LearningRateSchedule, seed: UInt64
    ) {
        self.architecture = architecture; self.epochs = epochs; self.batchSize = batchSize
        self.shardSize = shardSize; self.baseLearningRate = baseLearningRate
        self.optimiser = optimiser; self.schedule = schedule; self.seed = seed
    }
}

extension TrainingConfiguration {
    /// Everything besides the architecture that fixes the result, as a
    /// checkpoint records it: resuming with any of these changed would not
    /// continue the same run. The epoch count is left out so a finished run
    /// can be extended (except under a cosine schedule, whose shape depends on it).
    /// A feature left at its default adds no entry, so checkpoints written
    /// before it existed still resume.
    public var settings: [String: String] {
        var settings = [
            "seed": String(seed),
            "batch-size": String(batchSize),
            "shard-size": String(shardSize),
            "lr": "\(baseLearningRate)",
            "momentum": "\(optimiser.momentum)",
            "nesterov": String(optimiser.nesterov),
            "weight-decay": "\(optimiser.weightDecay)",
            "lr-schedule": "\(schedule.kind)",
            "warmup-steps": String(schedule.warmupSteps),
        ]
        if gradientOptions.usesDropout {
            settings["dropout"] = gradientOptions.dropout.map { "\($0)" }.joined(separator: ",")
        }
        if gradientOptions.labelSmoothing != 0 { settings["label-smoothing"] = "\(gradientOptions.labelSmoothing)" }
        if gradientOptions.shift != 0 { settings["augment"] = "shift=\(gradientOptions.shift)" }
        if validationFraction > 0 { settings["validation-fraction"] = "\(validationFraction)" }
        if let patience = earlyStoppingPatience { settings["early-stopping"] = String(patience) }
        if let norm = clipping.maxNorm { settings["clip-norm"] = "\(norm)" }
        if let value = clipping.maxValue { settings["clip-value"] = "\(value)" }
        if optimiser.kind != .sgd {
            settings["optimizer"] = optimiser.kind.rawValue
            settings["beta1"] = "\(optimiser.beta1)"
            settings["beta2"] = "\(optimiser.beta2)"
            settings["eps"] = "\(optimiser.epsilon)"
        }
        return settings
    }
}
