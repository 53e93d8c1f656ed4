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
