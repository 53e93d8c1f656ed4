/// Everything one run needs, loaded and checked before any training starts:
/// what fixes the result, the data, where the files go, and the checkpoint
/// to continue from. `train` and the coordinator take the same.
public struct TrainingRun {
    public var configuration: TrainingConfiguration
    public var data: TrainingData
    public var directory: RunDirectory
    /// Also checkpoint every this many steps (0: only at epochs' ends and on a stop).
    public var checkpointEvery: Int
    /// A checkpoint already checked against this configuration.
    public var resume: Checkpoint?

    public init(
        configuration: TrainingConfiguration, data: TrainingData, directory: RunDirectory,
        checkpointEvery: Int = 0, resume: Checkpoint? = nil
    ) {
        self.configuration = configuration
        self.data = data
        self.directory = directory
        self.checkpointEvery = checkpointEvery
        self.resume = resume
    }

    /// The loop of this run around `updater`, watched by the progress line
    /// and the TensorBoard log.
    public func loop(updater: ParameterUpdater, output: Output) throws -> TrainingLoop {
        let observers: [TrainingObserver] = [
            ProgressReporter(output: output),
            try TensorBoardLog(run: directory, fresh: resume == nil, output: output),
        ]
        return try TrainingLoop(
            configuration: configuration, data: data, updater: updater, run: directory,
            checkpointEvery: checkpointEvery, resume: resume, output: output, observers: observers)
    }
}
