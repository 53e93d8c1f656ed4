import ArgumentParser
import Cluster
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

    /// The coordinator's job as the flags give it: `coordinator` and
    /// `simulate` both build it here, after checking the worker counts.
    func job(listen: String, workers: Int, allowed: ClosedRange<Int>, collective: CollectiveKind) throws -> CoordinatorJob {
        guard allowed.contains(workers) else {
            throw UsageError("--workers: must be \(allowed.lowerBound)...\(allowed.upperBound), got \(workers)")
        }
        guard minWorkers <= workers else { throw UsageError("--min-workers \(minWorkers) exceeds --workers \(workers)") }
        return CoordinatorJob(listen: listen, workers: workers, collective: collective, settings: try settings())
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
