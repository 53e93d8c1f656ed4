import Foundation
import MLP
import Wire

/// What the coordinator needs from its workers whichever collective they use.
protocol WorkerGroup: AnyObject {
    var endpoint: String { get }
    var rejectedMessages: Int { get }
    var stopSignal: () -> Int32? { get set }
    func waitForWorkers(_ count: Int) throws
    func shutdown(reason: String)
}

extension WorkerPool: WorkerGroup {}
extension RingCoordinator: WorkerGroup {}

/// A coordinator's whole run: listen, wait for the workers, train through
/// them, tell them to stop. `coordinator` runs it as is; `simulate` starts
/// its own worker processes once the socket is bound.
public struct CoordinatorJob {
    public var listen: String
    public var workers: Int
    public var collective: CollectiveKind
    public var configuration: TrainingConfiguration
    public var settings: ClusterSettings
    public var checkpointEvery: Int
    public var resume: Checkpoint?

    public init(
        listen: String, workers: Int, collective: CollectiveKind = .central, configuration: TrainingConfiguration,
        settings: ClusterSettings, checkpointEvery: Int = 0, resume: Checkpoint? = nil
    ) {
        self.listen = listen; self.workers = workers; self.collective = collective; self.configuration = configuration; self.settings = settings
        self.checkpointEvery = checkpointEvery; self.resume = resume
    }

    /// `whenListening` receives the bound endpoint (with the real port).
    public func run(
        data: TrainingData, run: RunDirectory, say: @escaping (String) -> Void, log: @escaping (String) -> Void,
        whenListening: (String) throws -> Void = { _ in }
    ) throws -> TrainingLoop.Outcome {
        SignalTrap.install()
        let pool: WorkerGroup
        let updater: ParameterUpdater
        switch collective {
        case .central:
            let central = try WorkerPool(
                listen: listen, architecture: configuration.architecture, shardSize: configuration.shardSize,
                data: data.train, settings: settings, log: log)
            (pool, updater) = (central, CentralUpdater(source: central, configuration: configuration))
        case .ring:
            let ring = try RingCoordinator(
                listen: listen, architecture: configuration.architecture, shardSize: configuration.shardSize,
                optimiser: configuration.optimiser, data: data.train, settings: settings, log: log)
            (pool, updater) = (ring, ring)
        }
        pool.stopSignal = { SignalTrap.caught }
        defer { pool.shutdown(reason: "training over") }
        try whenListening(pool.endpoint)
        let loop = try TrainingLoop(
            configuration: configuration, data: data, updater: updater, run: run,
            checkpointEvery: checkpointEvery, resume: resume, say: say)
        do {
            try pool.waitForWorkers(workers)
        } catch ClusterError.stopped(let signal) {
            return .stopped(signal: signal)
        }
        let outcome = try loop.train { SignalTrap.caught }
        if pool.rejectedMessages > 0 { log("coordinator: \(pool.rejectedMessages) bad or stale messages rejected in all") }
        return outcome
    }

    /// `simulate`: this process coordinates; `count` worker processes of the
    /// same executable connect over loopback.
    public func simulate(
        data: TrainingData, run: RunDirectory, say: @escaping (String) -> Void, log: @escaping (String) -> Void
    ) throws -> TrainingLoop.Outcome {
        let children = WorkerProcesses()
        defer { children.stopAll(grace: 5) }
        return try self.run(data: data, run: run, say: say, log: log) { endpoint in
            try children.spawn(count: workers, arguments: [
                "--coordinator", endpoint,
                "--heartbeat-ms", String(settings.heartbeatMilliseconds),
                "--peer-timeout-ms", String(settings.peerTimeoutMilliseconds),
            ])
        }
    }
}
