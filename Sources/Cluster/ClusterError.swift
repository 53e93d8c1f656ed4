public enum ClusterError: Error, CustomStringConvertible {
    case cannotListen(endpoint: String, reason: String)
    case notEnoughWorkers(have: Int, need: Int, waitedSeconds: Double)
    case incompatibleCoordinator(String)
    case stopped(signal: Int32)
    case ringUnstable(failures: Int, last: String)
    case cannotStartWorker(executable: String, reason: String)

    /// Errors after which the run can go on from a checkpoint.
    public var leavesRunResumable: Bool {
        if case .notEnoughWorkers = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .cannotListen(let endpoint, let reason):
            return "--listen \(endpoint): cannot listen there: \(reason)"
        case .notEnoughWorkers(let have, let need, let waited):
            return "only \(have) of the \(need) workers needed were live for \(Int(waited)) s"
        case .incompatibleCoordinator(let why):
            return "cannot work for this coordinator: \(why)"
        case .stopped(let signal):
            return "stopped by signal \(signal)"
        case .ringUnstable(let failures, let last):
            return "the ring broke \(failures) times in a row without finishing a step (last: \(last))"
        case .cannotStartWorker(let executable, let reason):
            return "cannot start a worker process from \(executable): \(reason)"
        }
    }
}
