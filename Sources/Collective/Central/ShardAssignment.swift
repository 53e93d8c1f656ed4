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
    @usableFromInline var owners: [Worker?] = []
    @usableFromInline var pending: [Bool] = []
    @usableFromInline var outstanding_ = 0

    @inlinable public init() {}

    @inlinable public var outstandingCount: Int { outstanding_ }

    @inlinable public var outstanding: Set<Int> { Set(pending.indices.filter { pending[$0] }) }

    /// Whether `shard` is outstanding and assigned to `worker`.
    @inlinable public func holds(_ shard: Int, _ worker: Worker) -> Bool {
        shard >= 0 && shard < pending.count && pending[shard] && owners[shard] == worker
    }

    /// Splits `shardCount` shards over `workerCount` workers (`worker(i)` is
    /// the i-th) in ShardBlocks' blocks, and gives each worker its block;
    /// workers beyond the shard count get none. Builds no lists.
    @inlinable public mutating func startBlocks(
        shardCount: Int, workerCount: Int, worker: (Int) -> Worker, give: (Worker, Range<Int>) throws -> Void
    ) rethrows {
        reset(shardCount)
        guard workerCount > 0, shardCount > 0 else { return }
        let used = min(workerCount, shardCount)
        for index in 0..<used {
            let block = ShardBlocks.block(index, of: used, shardCount: shardCount)
            let holder = worker(index)
            for shard in block { owners[shard] = holder }
            try give(holder, block)
        }
    }

    @inlinable mutating func reset(_ shardCount: Int) {
        owners.removeAll(keepingCapacity: true)
        owners.append(contentsOf: repeatElement(nil, count: shardCount))
        pending.removeAll(keepingCapacity: true)
        pending.append(contentsOf: repeatElement(true, count: shardCount))
        outstanding_ = shardCount
    }

    /// Hands the unfinished shards of `lost` to `workers`; returns the new
    /// blocks. With no workers left they wait, ownerless, for `adoptOrphans`.
    @inlinable public mutating func reassign(from lost: Worker, to workers: [Worker]) -> [(Worker, [Int])] {
        let orphaned = pending.indices.filter { pending[$0] && owners[$0] == lost }
        for shard in orphaned { owners[shard] = nil }
        return spread(orphaned, over: workers)
    }

    /// Workers that hold outstanding shards (a step deadline expels them).
    public var outstandingHolders: [Worker] {
        var holders: [Worker] = []
        for shard in pending.indices where pending[shard] {
            if let owner = owners[shard], !holders.contains(owner) { holders.append(owner) }
        }
        return holders
    }

    /// Outstanding shards nobody holds (their worker was lost when no other was live).
    @inlinable public var orphans: [Int] { pending.indices.filter { pending[$0] && owners[$0] == nil } }

    /// Whether there are any, without building the list (asked on every wait).
    @inlinable public var hasOrphans: Bool { pending.indices.contains { pending[$0] && owners[$0] == nil } }

    @inlinable public mutating func adoptOrphans(by workers: [Worker]) -> [(Worker, [Int])] {
        spread(orphans, over: workers)
    }

    /// Accepts a report only if every shard in it is outstanding and owned by
    /// `worker`, each once: late, duplicate and foreign reports are refused, never counted.
    @inlinable public mutating func complete<Shards: Collection>(_ shards: Shards, by worker: Worker) -> Bool where Shards.Element == Int {
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
        outstanding_ -= marked
        return true
    }

    @inlinable public var isComplete: Bool { outstanding_ == 0 }

    @inlinable mutating func spread(_ shards: [Int], over workers: [Worker]) -> [(Worker, [Int])] {
        guard !workers.isEmpty, !shards.isEmpty else { return [] }
        var blocks: [(Worker, [Int])] = []
        let used = min(workers.count, shards.count)
        for (index, worker) in workers.prefix(used).enumerated() {
            let block = Array(shards[ShardBlocks.block(index, of: used, shardCount: shards.count)])
            for shard in block { owners[shard] = worker }
            blocks.append((worker, block))
        }
        return blocks
    }
}
