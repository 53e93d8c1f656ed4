/// Timing of membership: how often peers speak when idle, how long silence
/// may last before a peer is declared gone, and how long the coordinator
/// waits for workers before it checkpoints and gives up.
public struct ClusterSettings {
    public var heartbeatMilliseconds: Int
    public var peerTimeoutMilliseconds: Int
    /// How long the coordinator waits for its first workers.
    public var joinTimeoutSeconds: Double
    /// Below this many live workers the coordinator pauses training.
    public var minWorkers: Int
    /// How long it pauses before writing a checkpoint and exiting.
    public var waitTimeoutSeconds: Double
    /// How long a member may hold shards of a step before it is expelled
    /// and they go to others; nil: 20 peer timeouts.
    public var stepTimeoutSeconds: Double?
    /// Members beyond this many are refused (a stranger must not grow the list without bound).
    public var maxMembers = Int.max
    /// The share of micro-shards computed a second time by another worker and compared (central).
    public var verifyFraction: Double = 0
    /// Ring neighbours on one host pass their sums and weights through
    /// shared memory; false: through sockets, as between hosts.
    public var sharedMemory = true
    /// A ring over several hosts with as many members on each goes in two
    /// levels (shared memory inside a host, one ring per local rank between
    /// hosts); false: one flat ring.
    public var hierarchical = true

    public var stepTimeout: Double { stepTimeoutSeconds ?? 20 * Double(peerTimeoutMilliseconds) / 1000 }

    public init(
        heartbeatMilliseconds: Int = 500, peerTimeoutMilliseconds: Int = 10_000, joinTimeoutSeconds: Double = 120,
        minWorkers: Int = 1, waitTimeoutSeconds: Double = 60
    ) {
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.peerTimeoutMilliseconds = peerTimeoutMilliseconds
        self.joinTimeoutSeconds = joinTimeoutSeconds
        self.minWorkers = minWorkers
        self.waitTimeoutSeconds = waitTimeoutSeconds
    }
}
