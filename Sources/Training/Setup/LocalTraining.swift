/// `dptrain train`: the whole run in this process, every shard computed
/// here with the code a worker runs, averaged and applied as the central
/// coordinator does. The same bytes as any number of workers, with no wire.
public enum LocalTraining {
    public static func run(_ run: TrainingRun, output: Output) throws -> TrainingLoop.Outcome {
        SignalTrap.install()
        let configuration = run.configuration
        let source = LocalGradientSource(
            data: run.data.train, architecture: configuration.architecture, shardSize: configuration.shardSize,
            options: configuration.gradientOptions)
        let loop = try run.loop(updater: AveragingUpdater(source: source, configuration: configuration), output: output)
        return try loop.train { SignalTrap.caught }
    }
}
