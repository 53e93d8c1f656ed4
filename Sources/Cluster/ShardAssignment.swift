/// Which worker computes which micro-shards of the current step.
///
/// Shards go out in contiguous blocks, as even as possible. A shard is done
/// when exactly the worker it is assigned to reports it; a worker that is
/// lost hands its unfinished shards back for reassignment. Because the
/// reduction is exact, who computes a shard never changes the result.
///
/// Kept in arrays indexed by shard and refilled in place, so that a step
/// without failures (`startBlocks`, `holds`, `complete`) allocates nothing.
public struct ShardAssignment<Worker: Hashable> {
    private var owners: [Worker?] = []
    private var pending: [Bool] = []
    public private(set) var outstandingCount = 0

    public init() {}

    /// Outstanding shards and who holds each (for tests and logs; allocates).
    public var owner: [Int: Worker] {
        var result: [Int: Worker] = [:]
        for shard in owners.indices { if let worker = owners[shard] { result[shard] = worker } }
        return result
    }

    public var outstanding: Set<Int> { Set(pending.indices.filter { pending[$0] }) }

    /// Whether `shard` is outstanding and assigned to `worker`.
    public func holds(_ shard: Int, _ worker: Worker) -> Bool {
        shard >= 0 && shard < pending.count && pending[shard] && owners[shard] == worker
    }

    /// Splits `shardCount` shards over `workers` (in the given order) and
    /// returns each worker's block; workers beyond the shard count get none.
    public mutating func start(shardCount: Int, workers: [Worker]) -> [(Worker, [Int])] {
        var blocks: [(Worker, [Int])] = []
        startBlocks(shardCount: shardCount, workerCount: workers.count, worker: { workers[$0] }) { worker, block in
            blocks.append((worker, Array(block)))
        }
        return blocks
    }

    /// `start` without building lists: `give` receives each worker's block.
    public mutating func startBlocks(
        shardCount: Int, workerCount: Int, worker: (Int) -> Worker, give: (Worker, Range<Int>) throws -> Void
    ) rethrows {
        reset(shardCount)
        guard workerCount > 0, shardCount > 0 else { return }
        let used = min(workerCount, shardCount)
        for index in 0..<used {
            let block = (index * shardCount / used)..<((index + 1) * shardCount / used)
            let holder = worker(index)
            for shard in block { owners[shard] = holder }
            try give(holder, block)
        }
    }

    private mutating func reset(_ shardCount: Int) {
        owners.removeAll(keepingCapacity: true)
        owners.append(contentsOf: repeatElement(nil, count: shardCount))
        pending.removeAll(keepingCapacity: true)
        pending.append(contentsOf: repeatElement(true, count: shardCount))
        outstandingCount = shardCount
    }

    /// Hands the unfinished shards of `lost` to `workers`; returns the new
    /// blocks. With no workers left they wait, ownerless, for `adoptOrphans`.
    public mutating func reassign(from lost: Worker, to workers: [Worker]) -> [(Worker, [Int])] {
        let orphaned = pending.indices.filter { pending[$0] && owners[$0] == lost }
        for shard in orphaned { owners[shard] = nil }
        return spread(orphaned, over: workers)
    }

    /// Moves `shards` (outstanding, whoever holds them) to `workers`, e.g. to
    /// have a suspicious result recomputed elsewhere.
    public mutating func move(_ shards: [Int], to workers: [Worker]) -> [(Worker, [Int])] {
        spread(shards.filter { $0 >= 0 && $0 < pending.count && pending[$0] }.sorted(), over: workers)
    }

    /// Outstanding shards nobody holds (their worker was lost when no other was live).
    public var orphans: [Int] { pending.indices.filter { pending[$0] && owners[$0] == nil } }

    /// Whether there are any, without building the list (asked on every wait).
    public var hasOrphans: Bool { pending.indices.contains { pending[$0] && owners[$0] == nil } }

    public mutating func adoptOrphans(by workers: [Worker]) -> [(Worker, [Int])] {
        spread(orphans, over: workers)
    }

    /// Accepts a report only if every shard in it is outstanding and owned by
    /// `worker`, each once: late, duplicate and foreign reports are refused, never counted.
    public mutating func complete<Shards: Collection>(_ shards: Shards, by worker: Worker) -> Bool where Shards.Element == Int {
        guard !shards.isEmpty, shards.allSatisfy({ holds($0, worker) }) else { return false }
        // A repeated id would be counted twice: marked off one by one, a repeat finds its shard done.
        var marked = 0
        for shard in shards {
            guard pending[shard] else {
                for undo in shards.prefix(marked) { pending[undo] = true }
                return false
            }
            pending[shard] = false
            marked += 1
        }
        outstandingCount -= marked
        return true
    }

    public var isComplete: Bool { outstandingCount == 0 }

    public func shards(of worker: Worker) -> [Int] {
        pending.indices.filter { pending[$0] && owners[$0] == worker }
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
            for shard in block { owners[shard] = worker }
            blocks.append((worker, block))
        }
        return blocks
    }
}
