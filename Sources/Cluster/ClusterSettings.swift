/// Timing of membership: how often peers speak when idle and how long
/// silence may last before a peer is declared gone.
public struct ClusterSettings {
    public var heartbeatMilliseconds: Int
    public var peerTimeoutMilliseconds: Int
    /// How long the coordinator waits for its first workers.
    public var joinTimeoutSeconds: Double

    public init(heartbeatMilliseconds: Int = 500, peerTimeoutMilliseconds: Int = 10_000, joinTimeoutSeconds: Double = 120) {
        self.heartbeatMilliseconds = heartbeatMilliseconds
        self.peerTimeoutMilliseconds = peerTimeoutMilliseconds
        self.joinTimeoutSeconds = joinTimeoutSeconds
    }
}
