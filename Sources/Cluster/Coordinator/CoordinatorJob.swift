import Training
import Wire

/// A coordinator's whole run: listen, wait for the workers, train through
/// them, tell them to stop. `coordinator` runs it as is; `simulate` starts
/// its own worker processes once the socket is bound. The counterpart of
/// LocalTraining, which runs the same loop with no wire.
public struct CoordinatorJob {
    public var listen: String
    public var workers: Int
    public var collective: CollectiveKind
    public var settings: ClusterSettings
    /// CURVE on the coordinator's socket; nil for plaintext.
    public var curve: CoordinatorCurve?
    /// `simulate --secure`: the private folder for the run's ephemeral keys.
    public var ephemeralKeyFolder: String?

    public init(listen: String, workers: Int, collective: CollectiveKind = .central, settings: ClusterSettings) {
        self.listen = listen
        self.workers = workers
        self.collective = collective
        self.settings = settings
        // Room for replacements joining before the members they replace are
        // declared silent, and no more.
        self.settings.maxMembers = min(self.settings.maxMembers, 2 * workers + 4)
    }

    /// `whenListening` receives the bound endpoint (with the real port).
    public func run(
        _ run: TrainingRun, output: Output, whenListening: (String) throws -> Void = { _ in }
    ) throws -> TrainingLoop.Outcome {
        SignalTrap.install()
        let coordinator = try Coordinator(
            listen: listen, collective: collective, configuration: run.configuration, data: run.data,
            settings: settings, curve: curve, output: output)
        coordinator.stopSignal = { SignalTrap.caught }
        defer { coordinator.shutdown(reason: "training over") }
        try whenListening(coordinator.endpoint)
        let loop = try run.loop(updater: coordinator, output: output)
        do {
            try coordinator.waitForWorkers(workers)
        } catch let stop as StopRequested {
            return .stopped(signal: stop.signal)
        }
        let outcome = try loop.train { SignalTrap.caught }
        if coordinator.rejectedMessages > 0 {
            output.log("coordinator: \(coordinator.rejectedMessages) bad or stale messages rejected in all")
        }
        return outcome
    }

    /// `simulate`: this process coordinates; `workers` worker processes of
    /// the same executable connect through a Unix socket. They take the
    /// run's timing from their welcome.
    public func simulate(_ run: TrainingRun, output: Output) throws -> TrainingLoop.Outcome {
        let children = SpawnedWorkers()
        defer { children.stopAll(grace: 5) }
        var job = self
        var workerKeys: [[String]] = Array(repeating: [], count: workers)
        if let folder = ephemeralKeyFolder {
            let keys = try EphemeralKeys(folder: folder, workers: workers)
            job.curve = keys.coordinator
            workerKeys = keys.workerArguments
        }
        return try job.run(run, output: output) { endpoint in
            var arguments = ["--coordinator", endpoint]
            // The coordinator's log already says who joined and when they
            // stop: below debug, the workers say only what goes wrong.
            arguments += output.level == .debug ? ["--log-level", "debug"] : ["--quiet"]
            if output.format == .json { arguments += ["--log-format", "json"] }
            for keyArguments in workerKeys { try children.spawn(count: 1, arguments: arguments + keyArguments) }
        }
    }
}
