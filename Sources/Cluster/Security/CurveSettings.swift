import Wire

/// CURVE on the coordinator's socket: its own keys, and the workers' public
/// keys it lets in (its ZAP handler refuses every other key in the handshake).
public struct CoordinatorCurve {
    public var keys: CurveKeyPair
    public var authorized: Set<CurveKey>

    public init(keys: CurveKeyPair, authorized: Set<CurveKey>) {
        self.keys = keys
        self.authorized = authorized
    }
}

/// CURVE on a worker: its own keys, and the coordinator's public key, pinned.
/// In a ring, the same keys secure its inbox and its link to the right neighbour.
public struct WorkerCurve {
    public var keys: CurveKeyPair
    public var coordinatorKey: CurveKey

    public init(keys: CurveKeyPair, coordinatorKey: CurveKey) {
        self.keys = keys
        self.coordinatorKey = coordinatorKey
    }
}

/// Where listening in plaintext is harmless: endpoints no other machine can reach.
enum ListenScope {
    static let zapDomain = "dptrain"

    static func isLocal(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        var host = endpoint.dropFirst("tcp://".count)
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    static func plaintextWarning(_ endpoint: String) -> String {
        "coordinator: WARNING: listening on \(endpoint) without CURVE: anyone on the network can join as a worker and read the training data and the model (see --curve-secret-key and --authorized-keys)"
    }
}
