/// Which worker computes which micro-shards of the current step.
///
/// Shards go out in contiguous blocks, as even as possible. A shard is done
/// when exactly the worker it is assigned to reports it; a worker that is
/// lost hands its unfinished shards back for reassignment. Because the
/// reduction is exact, who computed a shard never changes the result.
public struct ShardAssignment<Worker: Hashable> {
    public private(set) var owner: [Int: Worker] = [:]
    public private(set) var outstanding: Set<Int> = []

    public init() {}

    /// Splits `shardCount` shards over `workers` (in the given order) and
    /// returns each worker's block; workers beyond the shard count get none.
    public mutating func start(shardCount: Int, workers: [Worker]) -> [(Worker, [Int])] {
        owner = [:]
        outstanding = Set(0..<shardCount)
        return spread(Array(0..<shardCount), over: workers)
    }

    /// Hands the unfinished shards of `lost` to `workers`; returns the new
    /// blocks. With no workers left they wait, ownerless, for `adoptOrphans`.
    public mutating func reassign(from lost: Worker, to workers: [Worker]) -> [(Worker, [Int])] {
        let orphaned = outstanding.filter { owner[$0] == lost }.sorted()
        for shard in orphaned { owner[shard] = nil }
        return spread(orphaned, over: workers)
    }

    /// Moves `shards` (outstanding, whoever holds them) to `workers`, e.g. to
    /// have a suspicious result recomputed elsewhere.
    public mutating func move(_ shards: [Int], to workers: [Worker]) -> [(Worker, [Int])] {
        spread(shards.filter(outstanding.contains).sorted(), over: workers)
    }

    /// Outstanding shards nobody holds (their worker was lost when no other was live).
    public var orphans: [Int] { outstanding.filter { owner[$0] == nil }.sorted() }

    /// Whether there are any, without building the list (asked on every wait).
    public var hasOrphans: Bool { outstanding.contains { owner[$0] == nil } }

    public mutating func adoptOrphans(by workers: [Worker]) -> [(Worker, [Int])] {
        spread(orphans, over: workers)
    }

    /// Accepts a report only if every shard in it is outstanding and owned by
    /// `worker`: late, duplicate and foreign reports are refused, never counted.
    public mutating func complete(_ shards: [Int], by worker: Worker) -> Bool {
        guard !shards.isEmpty, Set(shards).count == shards.count,
              shards.allSatisfy({ outstanding.contains($0) && owner[$0] == worker }) else { return false }
        outstanding.subtract(shards)
        return true
    }

    public var isComplete: Bool { outstanding.isEmpty }

    public func shards(of worker: Worker) -> [Int] {
        outstanding.filter { owner[$0] == worker }.sorted()
    }

    private mutating func spread(_ shards: [Int], over workers: [Worker]) -> [(Worker, [Int])] {
        guard !workers.isEmpty, !shards.isEmpty else { return [] }
        var blocks: [(Worker, [Int])] = []
        let used = min(workers.count, shards.count)
        var start = 0
        for (index, worker) in workers.prefix(used).enumerated() {
            let end = (index + 1) * shards.count / used
            let block = Array(shards[start..<end])
            start = end
            for shard in block { owner[shard] = worker }
            blocks.append((worker, block))
        }
        return blocks
    }
}
