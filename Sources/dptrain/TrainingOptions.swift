import ArgumentParser
import Training
import Datasets
import Foundation
import MLP

/// The training flags of DESIGN.md, shared by train, simulate and coordinator.
struct TrainingOptions: ParsableArguments {
    @OptionGroup var data: DataOptions
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
    @Option(help: "Momentum.")
    var momentum: Float = 0.9
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
    @Option(help: "Seed for initial weights and data order.")
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
        guard epochs >= 1 else { throw UsageError("--epochs: must be at least 1, got \(epochs)") }
        guard batchSize >= 1, batchSize <= 65_536 else { throw UsageError("--batch-size: must be 1...65536, got \(batchSize)") }
        guard shardSize >= 1, shardSize <= 4096 else { throw UsageError("--shard-size: must be 1...4096, got \(shardSize)") }
        guard lr.isFinite, lr > 0 else { throw UsageError("--lr: must be a positive number, got \(lr)") }
        guard momentum >= 0, momentum < 1 else { throw UsageError("--momentum: must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw UsageError("--weight-decay: must be >= 0, got \(weightDecay)") }
        guard lrDecay > 0, lrDecay <= 1 else { throw UsageError("--lr-decay: must be in (0, 1], got \(lrDecay)") }
        guard warmupSteps >= 0 else { throw UsageError("--warmup-steps: must be >= 0, got \(warmupSteps)") }
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
        return TrainingConfiguration(
            architecture: architecture, epochs: epochs, batchSize: batchSize, shardSize: shardSize,
            baseLearningRate: lr,
            optimiser: SGDSettings(learningRate: lr, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay),
            schedule: try LearningRateSchedule(kind: kind, warmupSteps: warmupSteps), seed: seed)
    }

    /// Everything the run needs, loaded and checked before any training starts.
    func prepare(output: Output) throws -> TrainingRun {
        let configuration = try configuration()
        if let resume, let out, resume != out {
            throw UsageError("--out \(out) and --resume \(resume) differ: a resumed run continues in its own folder")
        }
        let data = try TrainingData.load(try self.data.source(), testFolder: testData) { output.info($0) }
        try data.check(against: configuration.architecture)
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
