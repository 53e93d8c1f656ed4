import ArgumentParser
import Cluster
import Training
import Wire

/// Membership timing, shared by coordinator, simulate and worker.
struct ClusterOptions: ParsableArguments {
    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat interval of idle peers, in milliseconds.")
    var heartbeatMilliseconds = 500
    @Option(name: .customLong("peer-timeout-ms"), help: "Silence after which a peer counts as gone, in milliseconds.")
    var peerTimeoutMilliseconds = 10_000
    @Option(name: .customLong("join-timeout"), help: "Seconds to wait for the workers to join.")
    var joinTimeoutSeconds: Double = 120
    @Option(name: .customLong("min-workers"), help: "Pause training while fewer workers are live.")
    var minWorkers = 1
    @Option(name: .customLong("wait-timeout"), help: "Seconds to pause below --min-workers before checkpointing and exiting 1.")
    var waitTimeoutSeconds: Double = 60

    func settings() throws -> ClusterSettings {
        guard heartbeatMilliseconds >= 10 else { throw UsageError("--heartbeat-ms: must be at least 10, got \(heartbeatMilliseconds)") }
        guard peerTimeoutMilliseconds > heartbeatMilliseconds else {
            throw UsageError("--peer-timeout-ms: must exceed --heartbeat-ms (\(heartbeatMilliseconds)), got \(peerTimeoutMilliseconds)")
        }
        guard joinTimeoutSeconds > 0 else { throw UsageError("--join-timeout: must be positive") }
        guard minWorkers >= 1 else { throw UsageError("--min-workers: must be at least 1, got \(minWorkers)") }
        guard waitTimeoutSeconds > 0 else { throw UsageError("--wait-timeout: must be positive") }
        return ClusterSettings(
            heartbeatMilliseconds: heartbeatMilliseconds, peerTimeoutMilliseconds: peerTimeoutMilliseconds,
            joinTimeoutSeconds: joinTimeoutSeconds, minWorkers: minWorkers, waitTimeoutSeconds: waitTimeoutSeconds)
    }
}

/// What `coordinator` and `simulate` share: the workers, the collective,
/// membership timing, the training flags and the log.
struct CoordinatorOptions: ParsableArguments {
    @Option(help: "Workers to wait for before the first step (simulate: worker processes to start).")
    var workers: Int
    @Option(help: "How gradients are reduced: central (the coordinator averages and updates) or ring (workers reduce among themselves, each updating a slice).")
    var collective: CollectiveKind = .central
    @OptionGroup var cluster: ClusterOptions
    @Option(name: .customLong("step-timeout"), help: "Seconds a worker may hold a step's shards before it is expelled and they go to others (default: 20 peer timeouts).")
    var stepTimeoutSeconds: Double?
    @Option(name: .customLong("verify-fraction"), help: "Share of micro-shards (0...1) computed a second time by another worker and compared bit for bit; a worker that disagrees with the majority is expelled and denied (either collective).")
    var verifyFraction: Double = 0
    @Flag(name: .customLong("shared-memory"), inversion: .prefixedNo, help: "Ring neighbours on the same host pass sums and weights through shared memory under /dev/shm (--no-shared-memory: through sockets, as between hosts).")
    var sharedMemory = true
    @Flag(name: .customLong("hierarchical"), inversion: .prefixedNo, help: "A ring over two or more hosts with the same number of workers on each reduces in two levels: through shared memory inside each host, and between hosts one ring per local rank over a model's 1/workers-per-host, so a host's link carries 2(H-1)/H of a model per step instead of 2(N-1)/N (--no-hierarchical: one flat ring).")
    var hierarchical = true
    @OptionGroup var curve: CurveOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var logging: OutputOptions

    /// Checks the flags, loads the run, and hands the job to `body`.
    func run(
        listen: String, allowed: ClosedRange<Int>, _ body: (CoordinatorJob, TrainingRun, Output) throws -> TrainingLoop.Outcome
    ) throws {
        guard allowed.contains(workers) else {
            throw UsageError("--workers: must be \(allowed.lowerBound)...\(allowed.upperBound), got \(workers)")
        }
        guard cluster.minWorkers <= workers else {
            throw UsageError("--min-workers \(cluster.minWorkers) exceeds --workers \(workers)")
        }
        guard (0...1).contains(verifyFraction) else { throw UsageError("--verify-fraction: must be 0...1, got \(verifyFraction)") }
        guard stepTimeoutSeconds.map({ $0 > 0 }) ?? true else { throw UsageError("--step-timeout: must be positive") }
        var settings = try cluster.settings()
        settings.stepTimeoutSeconds = stepTimeoutSeconds
        settings.verifyFraction = verifyFraction
        settings.sharedMemory = sharedMemory
        settings.hierarchical = hierarchical
        var job = CoordinatorJob(listen: listen, workers: workers, collective: collective, settings: settings)
        job.curve = try curve.coordinatorCurve()
        let output = try logging.output
        let run = try training.prepare(output: output)
        try finish(body(job, run, output), run: run, output: output)
    }
}

extension CollectiveKind: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "central": self = .central
        case "ring": self = .ring
        default: return nil
        }
    }

    public var defaultValueDescription: String { self == .central ? "central" : "ring" }
    public static var allValueStrings: [String] { ["central", "ring"] }
}
