import ArgumentParser
import Cluster

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train in this process alone (the same maths as simulate and coordinator).")

    @OptionGroup var training: TrainingOptions

    func run() throws {
        let (configuration, data, run) = try training.prepare()
        SignalTrap.install()
        let source = LocalGradientSource(
            data: data.train, architecture: configuration.architecture, shardSize: configuration.shardSize)
        let loop = try TrainingLoop(configuration: configuration, data: data, source: source, run: run, say: progress)
        let outcome = try loop.train { SignalTrap.caught }
        try finish(outcome, run: run)
    }
}

/// Ends a run the way DESIGN.md says: 0 when done, 128+N after signal N.
func finish(_ outcome: TrainingLoop.Outcome, run: RunDirectory) throws {
    switch outcome {
    case .finished:
        progress("results in \(run.url.path): metrics.jsonl, model.safetensors")
    case .stopped(let signal):
        note("dptrain: stopped by signal \(signal)")
        throw ExitCode(SignalTrap.exitStatus(for: signal))
    }
}
