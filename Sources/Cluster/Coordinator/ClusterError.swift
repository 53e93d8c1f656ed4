import Training

/// Why the machinery around training failed: a socket that cannot listen,
/// a coordinator this worker cannot serve, a ring that keeps breaking, a
/// worker process that cannot start.
public enum ClusterError: Error, CustomStringConvertible {
    case cannotListen(endpoint: String, reason: String)
    case incompatibleCoordinator(String)
    case ringUnstable(failures: Int, last: String)
    case cannotStartWorker(executable: String, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let endpoint, let reason):
            return "--listen \(endpoint): cannot listen there: \(reason)"
        case .incompatibleCoordinator(let why):
            return "cannot work for this coordinator: \(why)"
        case .ringUnstable(let failures, let last):
            return "the ring broke \(failures) times in a row without finishing a step (last: \(last))"
        case .cannotStartWorker(let executable, let reason):
            return "cannot start a worker process from \(executable): \(reason)"
        }
    }
}

/// Fewer live workers than needed for longer than the coordinator waits:
/// the run checkpoints and can be resumed once workers are back.
public struct NotEnoughWorkers: ResumableFailure, CustomStringConvertible {
    public let have: Int
    public let need: Int
    public let waitedSeconds: Double

    public var description: String { "only \(have) of the \(need) workers needed were live for \(Int(waitedSeconds)) s" }
}
