import Training
import Wire

/// The steps taken since the last snapshot, to be taken again on a new ring
/// after a failure. Its slots and their shard lists are kept and refilled,
/// so logging a step allocates nothing once the log has been full once.
struct ReplayLog {
    struct Entry {
        var globalStep = 0
        var shards: [Range<Int>] = []
        var order: [Int32] = []
        var rate: Float = 0
        /// Members kept from computing shards when the step was retaken (see StepWork.attempt).
        var excluded: [PeerID] = []

        var work: StepWork { StepWork(globalStep: globalStep, shards: shards, order: order) }
    }

    private var slots: [Entry] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    var entries: ArraySlice<Entry> { slots[0..<count] }

    mutating func append(_ work: StepWork, rate: Float, excluded: [PeerID]) {
        if count == slots.count { slots.append(Entry()) }
        // Copied into the slot's own list: the caller refills its list in place next step.
        slots[count].shards.removeAll(keepingCapacity: true)
        slots[count].shards.append(contentsOf: work.shards)
        slots[count].globalStep = work.globalStep
        slots[count].order = work.order
        slots[count].rate = rate
        slots[count].excluded.removeAll(keepingCapacity: true)
        slots[count].excluded.append(contentsOf: excluded)
        count += 1
    }

    mutating func removeAll() { count = 0 }
}
