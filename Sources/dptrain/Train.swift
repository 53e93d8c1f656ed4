import ArgumentParser
import Cluster

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train in this process alone (the same maths as simulate and coordinator).")

    @OptionGroup var training: TrainingOptions

    func run() throws {
        let prepared = try training.prepare()
        SignalTrap.install()
        let source = LocalGradientSource(
            data: prepared.data.train, architecture: prepared.configuration.architecture,
            shardSize: prepared.configuration.shardSize)
        let loop = try TrainingLoop(
            configuration: prepared.configuration, data: prepared.data,
            updater: CentralUpdater(source: source, configuration: prepared.configuration), run: prepared.run,
            checkpointEvery: training.checkpointEvery, resume: prepared.resume, say: progress)
        try finish(loop.train { SignalTrap.caught }, run: prepared.run)
    }
}

/// Ends a run the way DESIGN.md says: 0 when done, 128+N after signal N.
func finish(_ outcome: TrainingLoop.Outcome, run: RunDirectory) throws {
    switch outcome {
    case .finished:
        progress("results in \(run.url.path): metrics.jsonl, model.safetensors")
    case .stopped(let signal):
        note("dptrain: stopped by signal \(signal); checkpoint written: add --resume \(run.url.path) to the same command to continue")
        throw ExitCode(SignalTrap.exitStatus(for: signal))
    }
}
