import ArgumentParser
import Training
import Datasets
import Foundation
import MLP
import Wire

/// The training flags of DESIGN.md, shared by train, simulate and coordinator.
struct TrainingOptions: ParsableArguments {
    @OptionGroup var data: DataOptions
    @Option(help: "A tuned recipe: fashion-fast, fashion-best, mnist-subset-best or mnist-full; flags given explicitly override its values.")
    var preset: String?
    @Option(name: .customLong("test-data"), help: "Take the t10k- pair from this folder instead.")
    var testData: String?
    @Option(help: "Layer sizes, input first: 784,128,10.")
    var layers = "784,128,10"
    @Option(help: "Hidden activation: relu, leaky-relu, sigmoid or tanh.")
    var activation = "relu"
    @Option(help: "Loss: cross-entropy (softmax) or mse.")
    var loss = "cross-entropy"
    @Option(help: "Passes over the training set.")
    var epochs = 10
    @Option(name: .customLong("batch-size"), help: "Global mini-batch, over all workers.")
    var batchSize = 128
    @Option(name: .customLong("shard-size"), help: "Samples per micro-shard (the unit of work; part of the result).")
    var shardSize = 32
    @Option(help: "Base learning rate.")
    var lr: Float = 0.1
    @Option(help: "sgd (with --momentum), adam (L2 --weight-decay added to the gradient) or adamw (decoupled weight decay).")
    var optimizer = "sgd"
    @Option(help: "Momentum (sgd).")
    var momentum: Float = 0.9
    @Option(help: "Adam's first-moment decay.")
    var beta1: Float = 0.9
    @Option(help: "Adam's second-moment decay.")
    var beta2: Float = 0.999
    @Option(help: "Adam's term added to the denominator.")
    var eps: Float = 1e-8
    @Flag(help: "Nesterov momentum instead of classical.")
    var nesterov = false
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay.")
    var weightDecay: Float = 0
    @Option(name: .customLong("lr-decay"), help: "Learning rate multiplied by this once per epoch.")
    var lrDecay: Double = 1
    @Option(name: .customLong("lr-schedule"), help: "exponential (uses --lr-decay), step, cosine or constant.")
    var lrSchedule = "exponential"
    @Option(name: .customLong("lr-step-epochs"), help: "For --lr-schedule step: epochs between drops.")
    var lrStepEpochs = 10
    @Option(name: .customLong("lr-step-gamma"), help: "For --lr-schedule step: factor at each drop.")
    var lrStepGamma: Double = 0.1
    @Option(name: .customLong("warmup-steps"), help: "Linear learning-rate warm-up over this many steps.")
    var warmupSteps = 0
    @Option(name: .customLong("warmup-epochs"), help: "Linear learning-rate warm-up over this many epochs (replaces --warmup-steps when given).")
    var warmupEpochs: Double = 0
    @Option(name: .customLong("lr-scaling"), help: "Scale --lr by the global batch over --reference-batch: linear, sqrt or none (Goyal et al.).")
    var lrScaling = "none"
    @Option(name: .customLong("reference-batch"), help: "The batch size --lr was tuned for, for --lr-scaling.")
    var referenceBatch = 128
    @Option(help: "Dropout probability of the hidden layers' units in training: one value for all, or one per hidden layer (0.3,0.2).")
    var dropout = "0"
    @Option(name: .customLong("label-smoothing"), help: "Cross-entropy against (1 - E)·onehot + E/classes.")
    var labelSmoothing: Float = 0
    @Option(help: "Augmentation in training: shift=N moves each image by up to N pixels each way (seeded per sample); none for off.")
    var augment = "none"
    @Option(name: .customLong("clip-norm"), help: "Scale the averaged gradient down to this L2 norm when it is longer.")
    var clipNorm: Float?
    @Option(name: .customLong("clip-value"), help: "Clamp each averaged gradient value to ±this.")
    var clipValue: Float?
    @Option(name: .customLong("validation-fraction"), help: "Hold out this share of the training files (seeded) and report val_loss and val_accuracy each epoch; model.safetensors then holds the best epoch's weights.")
    var validationFraction: Double = 0
    @Option(name: .customLong("early-stopping"), help: "Stop after this many epochs without a lower validation loss (needs --validation-fraction).")
    var earlyStopping: Int?
    @Option(help: "Seed for initial weights, data order, dropout masks and shifts.")
    var seed: UInt64 = 1
    @Option(help: "Run directory for metrics.jsonl, model.safetensors and checkpoint.safetensors (default runs/latest).")
    var out: String?
    @Option(name: .customLong("checkpoint-every"), help: "Also checkpoint every N steps (always at each epoch's end and on SIGINT/SIGTERM).")
    var checkpointEvery = 0
    @Option(help: "Continue the run in RUN_DIR from its checkpoint; give the same training flags again.")
    var resume: String?

    func configuration() throws -> TrainingConfiguration {
        let activation: Activation, loss: Loss
        do {
            activation = try Activation(name: self.activation)
        } catch {
            throw UsageError("--activation: \(error)")
        }
        do {
            loss = try Loss(name: self.loss)
        } catch {
            throw UsageError("--loss: \(error)")
        }
        let architecture = try Architecture(parsing: layers, activation: activation, loss: loss)
        let gradientOptions = try self.gradientOptions(architecture)
        guard epochs >= 1 else { throw UsageError("--epochs: must be at least 1, got \(epochs)") }
        guard batchSize >= 1, batchSize <= 65_536 else { throw UsageError("--batch-size: must be 1...65536, got \(batchSize)") }
        guard shardSize >= 1, shardSize <= 4096 else { throw UsageError("--shard-size: must be 1...4096, got \(shardSize)") }
        guard lr.isFinite, lr > 0 else { throw UsageError("--lr: must be a positive number, got \(lr)") }
        guard let optimiserKind = OptimiserKind(rawValue: optimizer) else {
            throw UsageError("--optimizer: unknown '\(optimizer)' (sgd, adam, adamw)")
        }
        guard beta1 >= 0, beta1 < 1 else { throw UsageError("--beta1: must be in [0, 1), got \(beta1)") }
        guard beta2 >= 0, beta2 < 1 else { throw UsageError("--beta2: must be in [0, 1), got \(beta2)") }
        guard eps.isFinite, eps > 0 else { throw UsageError("--eps: must be a positive number, got \(eps)") }
        guard momentum >= 0, momentum < 1 else { throw UsageError("--momentum: must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw UsageError("--weight-decay: must be >= 0, got \(weightDecay)") }
        guard lrDecay > 0, lrDecay <= 1 else { throw UsageError("--lr-decay: must be in (0, 1], got \(lrDecay)") }
        guard warmupSteps >= 0 else { throw UsageError("--warmup-steps: must be >= 0, got \(warmupSteps)") }
        guard warmupEpochs >= 0, warmupEpochs.isFinite else { throw UsageError("--warmup-epochs: must be >= 0, got \(warmupEpochs)") }
        guard referenceBatch >= 1 else { throw UsageError("--reference-batch: must be at least 1, got \(referenceBatch)") }
        let ratio = Double(batchSize) / Double(referenceBatch)
        let scaledLearningRate: Float
        switch lrScaling {
        case "none": scaledLearningRate = lr
        case "linear": scaledLearningRate = Float(Double(lr) * ratio)
        case "sqrt": scaledLearningRate = Float(Double(lr) * ratio.squareRoot())
        default: throw UsageError("--lr-scaling: unknown '\(lrScaling)' (linear, sqrt, none)")
        }
        guard checkpointEvery >= 0 else { throw UsageError("--checkpoint-every: must be >= 0, got \(checkpointEvery)") }
        let kind: LearningRateSchedule.Kind
        switch lrSchedule {
        case "exponential": kind = .exponential(decay: lrDecay)
        case "constant": kind = .constant
        case "step":
            guard lrStepEpochs >= 1 else { throw UsageError("--lr-step-epochs: must be at least 1") }
            kind = .step(everyEpochs: lrStepEpochs, gamma: lrStepGamma)
        case "cosine": kind = .cosine(totalEpochs: epochs, floor: 0)
        default: throw UsageError("--lr-schedule: unknown '\(lrSchedule)' (exponential, step, cosine, constant)")
        }
        var configuration = TrainingConfiguration(
            architecture: architecture, epochs: epochs, batchSize: batchSize, shardSize: shardSize,
            baseLearningRate: scaledLearningRate,
            optimiser: OptimiserSettings(
                kind: optimiserKind, learningRate: scaledLearningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay,
                beta1: beta1, beta2: beta2, epsilon: eps),
            schedule: try LearningRateSchedule(kind: kind, warmupSteps: warmupSteps), seed: seed)
        configuration.gradientOptions = gradientOptions
        for (flag, value) in [("--clip-norm", clipNorm), ("--clip-value", clipValue)] {
            if let value, !(value.isFinite && value > 0) { throw UsageError("\(flag): must be a positive number, got \(value)") }
        }
        configuration.clipping = GradientClipping(maxNorm: clipNorm, maxValue: clipValue)
        guard validationFraction >= 0, validationFraction < 1 else {
            throw UsageError("--validation-fraction: must be in [0, 1), got \(validationFraction)")
        }
        if let earlyStopping {
            guard earlyStopping >= 1 else { throw UsageError("--early-stopping: patience must be at least 1 epoch, got \(earlyStopping)") }
            guard validationFraction > 0 else { throw UsageError("--early-stopping: needs --validation-fraction to watch") }
        }
        configuration.validationFraction = validationFraction
        configuration.earlyStoppingPatience = earlyStopping
        return configuration
    }

    /// --dropout, --label-smoothing and --augment, checked against the network.
    private func gradientOptions(_ architecture: Architecture) throws -> GradientOptions {
        let hidden = architecture.layerCount - 1
        let rates = try dropout.split(separator: ",", omittingEmptySubsequences: false).map { text -> Float in
            guard let rate = Float(text.trimmingCharacters(in: .whitespaces)), rate >= 0, rate < 1 else {
                throw UsageError("--dropout: '\(text)' is not a probability in [0, 1)")
            }
            return rate
        }
        guard rates.count == 1 || rates.count == hidden else {
            throw UsageError("--dropout: \(rates.count) values for \(hidden) hidden layers (give one, or one per hidden layer)")
        }
        let dropout = rates.allSatisfy { $0 == 0 } || hidden == 0 ? [] : rates.count == 1 ? Array(repeating: rates[0], count: hidden) : rates
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw UsageError("--label-smoothing: must be in [0, 1), got \(labelSmoothing)")
        }
        var shift = 0
        if augment != "none" {
            guard augment.hasPrefix("shift="), let pixels = Int(augment.dropFirst(6)), (0...8).contains(pixels) else {
                throw UsageError("--augment: '\(augment)' is not shift=N with N in 0...8, or none")
            }
            guard pixels == 0 || ShardGradientComputer.imageSide(inputSize: architecture.inputSize) != nil else {
                throw UsageError("--augment: shifts need square images, the network takes \(architecture.inputSize) pixels")
            }
            shift = pixels
        }
        return GradientOptions(seed: seed, dropout: dropout, labelSmoothing: labelSmoothing, shift: shift)
    }

    /// Everything the run needs, loaded and checked before any training starts.
    func prepare(output: Output) throws -> TrainingRun {
        var configuration = try configuration()
        if let resume, let out, resume != out {
            throw UsageError("--out \(out) and --resume \(resume) differ: a resumed run continues in its own folder")
        }
        let data = try TrainingData.load(try self.data.source(), testFolder: testData) { output.info($0) }
            .holdingOut(fraction: validationFraction, seed: seed)
        try data.check(against: configuration.architecture)
        if warmupEpochs > 0 {
            let stepsPerEpoch = (data.train.count + batchSize - 1) / batchSize
            configuration.schedule = try LearningRateSchedule(
                kind: configuration.schedule.kind, warmupSteps: Int((warmupEpochs * Double(stepsPerEpoch)).rounded()))
        }
        let description = RunDescription(dataset: self.data.dataset, data: self.data.data, testData: testData)
        guard let resume else {
            let directory = try RunDirectory(out ?? "runs/latest")
            try description.write(to: directory)
            return TrainingRun(
                configuration: configuration, data: data, directory: directory, checkpointEvery: checkpointEvery)
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resume, isDirectory: &isFolder), isFolder.boolValue else {
            throw UsageError("--resume \(resume): no such run folder")
        }
        let directory = try RunDirectory(resume)
        let checkpoint = try Checkpoint.read(from: directory.checkpointURL)
        try checkpoint.checkCompatible(
            architecture: configuration.architecture, settings: TrainingLoop.settings(configuration, data: data),
            source: directory.checkpointURL.path)
        output.info("dptrain: resuming \(resume) at epoch \(checkpoint.epoch + 1), step \(checkpoint.globalStep)")
        return TrainingRun(
            configuration: configuration, data: data, directory: directory, checkpointEvery: checkpointEvery,
            resume: checkpoint)
    }
}
