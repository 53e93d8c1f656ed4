import ArgumentParser
import Training

/// `dptrain train`: the whole run in this process, no wire.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train in this process alone (the same maths as simulate and coordinator).")

    @OptionGroup var training: TrainingOptions
    @OptionGroup var logging: OutputOptions

    func run() throws {
        let output = try logging.output
        let run = try training.prepare(output: output)
        try finish(LocalTraining.run(run, output: output), run: run, output: output)
    }
}

/// Ends a run the way DESIGN.md says: 0 when done, 128+N after signal N.
func finish(_ outcome: TrainingLoop.Outcome, run: TrainingRun, output: Output) throws {
    let folder = run.directory.url.path
    switch outcome {
    case .finished:
        output.result("results in \(folder): metrics.jsonl, model.safetensors, tensorboard/")
    case .stopped(let signal):
        output.log("dptrain: stopped by signal \(signal); checkpoint written: add --resume \(folder) to the same command to continue")
        throw ExitCode(SignalTrap.exitStatus(for: signal))
    }
}
