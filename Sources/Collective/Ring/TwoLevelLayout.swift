/// Where each member of a two-level (hierarchical) all-reduce stands:
/// `hosts` hosts of `perHost` members each, rank = host × perHost + local
/// rank. Inside a host the members form a ring through shared memory
/// (`local`); between hosts, the members of one local rank form a ring of
/// their own over the network (`hostRing`), which reduces only the local
/// chunk they own after the host's reduce-scatter. So a host's link carries
/// 2(H − 1)/H of a model per step, not 2(N − 1)/N as in one ring of all N.
public struct TwoLevelLayout: Equatable, Sendable {
    public let parameterCount: Int
    public let hosts: Int
    public let perHost: Int

    public init(parameterCount: Int, hosts: Int, perHost: Int) {
        precondition(hosts >= 2 && perHost >= 2, "two levels need at least two hosts of at least two members")
        self.parameterCount = parameterCount
        self.hosts = hosts
        self.perHost = perHost
    }

    public var size: Int { hosts * perHost }

    public func host(of rank: Int) -> Int { rank / perHost }
    public func localRank(of rank: Int) -> Int { rank % perHost }

    /// The ring inside each host, over every parameter.
    public var local: RingPartition { RingPartition(parameterCount: parameterCount, size: perHost) }

    /// The ring between hosts that members of `localRank` form: over the
    /// local chunk they hold whole after the host's reduce-scatter.
    public func hostRing(localRank: Int) -> RingPartition {
        RingPartition(range: local.owned(rank: localRank), size: hosts)
    }

    /// The parameters `rank` updates (and keeps optimiser state for).
    public func owned(rank: Int) -> Range<Int> {
        hostRing(localRank: localRank(of: rank)).owned(rank: host(of: rank))
    }

    /// Neighbours inside the host, through shared memory.
    public func localRight(of rank: Int) -> Int { host(of: rank) * perHost + (localRank(of: rank) + 1) % perHost }
    public func localLeft(of rank: Int) -> Int { host(of: rank) * perHost + (localRank(of: rank) + perHost - 1) % perHost }

    /// Neighbours between hosts, over the network: the same local rank on the next and the previous host.
    public func hostRight(of rank: Int) -> Int { (host(of: rank) + 1) % hosts * perHost + localRank(of: rank) }
    public func hostLeft(of rank: Int) -> Int { (host(of: rank) + hosts - 1) % hosts * perHost + localRank(of: rank) }
}
