import Collective
import Datasets
import Foundation
import MLP
import Wire

/// The coordinator's side of the ring collective. It only orchestrates:
/// membership, each step's micro-shards and learning rate, and snapshots
/// for checkpoints. Gradients never reach it; the workers reduce-scatter
/// them, update one slice each, and all-gather the weights.
///
/// Failures: momentum lives only on the workers, one slice each, so a lost
/// member takes its slice with it. The coordinator therefore keeps a
/// snapshot of the whole state (gathered every `snapshotInterval` steps and
/// whenever a checkpoint or an evaluation needs it) and the list of steps
/// taken since. When the ring breaks (a member lost, silent, or stalled)
/// it forms a new ring from the live workers, hands out the snapshot, and
/// replays those steps: the exact maths makes the replay give the same
/// bits, so the run goes on as if nothing had happened.
public final class RingCoordinator: ParameterUpdater {
    /// Why the current ring cannot finish its work.
    private struct RingBroken: Error {
        let reason: String
    }

    /// Steps between snapshots: bounds the replay after a failure, at the
    /// cost of moving the state to the coordinator once in that many steps.
    public static let snapshotInterval = 64
    /// Re-formations without a finished step in between before giving up.
    static let maxFailuresInARow = 8

    private let membership: Membership
    private let data: LabeledImages
    private let settings: ClusterSettings
    private let optimiser: SGDSettings
    private let parameterCount: Int
    private let snapshot: RingSnapshot
    private var replay = ReplayLog()
    private var ring: [Membership.Member]?
    private var generation: UInt64 = 0
    private var brokenReason: String?
    private var failuresInARow = 0
    /// The step in flight: who has yet to report it, and what they reported.
    private var pendingStep: UInt64?
    private var waiting: [Bool] = []
    private var waitingCount = 0
    private var replies = StepTally()
    private var slowestCompute: UInt64 = 0
    private var stalled = false
    /// Each ring member's work frames, by step parity and rank.
    private var shardFrames: [[ShardFrames]] = [[], []]
    /// The step whose work went out ahead, and to which ring.
    private var announced: (UInt64, UInt64)?
    /// Reports of that step that came before its turn.
    private var early: [(rank: Int, done: RingDone)] = []
    private var pendingState: (step: UInt64, waiting: Set<PeerID>)?
    /// Steps taken so far. The snapshot has taken all but those in the
    /// replay log: a new ring starts from its step and repeats the rest.
    private var lastStep: UInt64 = 0
    private var snapshotStep: UInt64 { lastStep - UInt64(replay.count) }
    private var computeNanoseconds: UInt64 = 0

    public init(
        listen: String, architecture: Architecture, shardSize: Int, optimiser: SGDSettings, data: LabeledImages,
        settings: ClusterSettings, log: @escaping (String) -> Void
    ) throws {
        self.data = data
        self.settings = settings
        self.optimiser = optimiser
        parameterCount = architecture.parameterCount
        snapshot = RingSnapshot(parameterCount: parameterCount)
        membership = try Membership(
            listen: listen, architecture: architecture, shardSize: shardSize, collective: .ring,
            settings: settings, log: log)
        membership.onMessage = { [unowned self] message, member in try receive(message, from: member) }
        membership.onLoss = { [unowned self] member in
            if ring?.contains(where: { $0.peer == member.peer }) == true, brokenReason == nil {
                brokenReason = "worker \(member.id) (\(member.name)) was lost"
            }
        }
    }

    public var endpoint: String { membership.endpoint }
    public var rejectedMessages: Int { membership.rejectedMessages }
    public var workerCount: Int { ring?.count ?? membership.members.count { $0.ringEndpoint != nil } }

    public var stopSignal: () -> Int32? {
        get { membership.stopSignal }
        set { membership.stopSignal = newValue }
    }

    /// Members that have said where they take ring traffic.
    private var eligible: [Membership.Member] { membership.members.filter { $0.ringEndpoint != nil } }

    public func waitForWorkers(_ count: Int) throws {
        membership.log("coordinator: waiting for \(count) worker\(count == 1 ? "" : "s") (ring)")
        try membership.waitUntil({ eligible.count >= count }, seconds: settings.joinTimeoutSeconds, need: count)
    }

    public func shutdown(reason: String) { membership.shutdown(reason: reason) }

    // MARK: - ParameterUpdater

    public func step(_ work: StepWork, learningRate: Float, next: UpcomingStep?) throws -> StepTally {
        while true {
            do {
                try prepareRing()
                var rotation = 0
                var tally = try run(work, rate: learningRate, rotation: rotation, next: next)
                if !tally.finite, let size = ring?.count, size > 1 {
                    // As with the central collective: another member computes the
                    // same shards once more, outvoting a faulty worker.
                    membership.log("coordinator: non-finite gradient in step \(work.globalStep); computing it again with the shards moved")
                    rotation = 1
                    // Members still hold the next step's work and take it after this one.
                    tally = try run(work, rate: learningRate, rotation: rotation, next: next)
                }
                // A step that was not finite changed nothing (every member skipped it).
                if tally.finite {
                    replay.append(work, rate: learningRate, rotation: rotation)
                    lastStep = UInt64(work.globalStep + 1)
                }
                failuresInARow = 0
                return tally
            } catch let broken as RingBroken {
                try ringFailed(broken)
            } catch {
                // Stopped mid-step: members may hold half a step, so the next
                // state comes from a new ring that repeats from the snapshot.
                ring = nil
                throw error
            }
        }
    }

    public func takeComputeNanoseconds() -> UInt64 {
        defer { computeNanoseconds = 0 }
        return computeNanoseconds
    }

    public func state() throws -> ModelState {
        // A stop signal must not cut short the state its checkpoint needs.
        let stop = membership.stopSignal
        membership.stopSignal = { nil }
        defer { membership.stopSignal = stop }
        while !replay.isEmpty {
            do {
                try prepareRing()
                try gatherState()
            } catch let broken as RingBroken {
                try ringFailed(broken)
            }
        }
        return ModelState(weights: UnsafeBufferPointer(snapshot.weights), velocity: UnsafeBufferPointer(snapshot.velocity))
    }

    public func load(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>, step: Int) throws {
        lastStep = UInt64(step)
        snapshot.load(weights: weights, velocity: velocity)
        replay.removeAll()
        ring = nil
    }

    // MARK: - Forming the ring

    private func ringFailed(_ broken: RingBroken) throws {
        ring = nil
        failuresInARow += 1
        membership.log("coordinator: ring generation \(generation) broke: \(broken.reason); forming a new one and repeating the \(replay.count) step\(replay.count == 1 ? "" : "s") since the last snapshot")
        guard failuresInARow <= Self.maxFailuresInARow else { throw ClusterError.ringUnstable(failures: failuresInARow, last: broken.reason) }
    }

    /// Makes sure a ring holds the state of the last step: takes a snapshot
    /// when one is due or new workers wait to join, and forms a new ring
    /// (replaying since the snapshot) when there is none.
    private func prepareRing() throws {
        if ring != nil {
            // Joiners wait while a step's work is out ahead: members may be taking it.
            let joiners = announced == nil && joinersWaiting(ring!)
            if joiners || replay.count >= Self.snapshotInterval {
                try gatherState()
                if joiners { ring = nil }
            }
        }
        guard ring == nil else { return }
        let need = max(1, settings.minWorkers)
        if eligible.count < need {
            membership.log("coordinator: \(eligible.count) live worker\(eligible.count == 1 ? "" : "s"), fewer than the \(need) a ring needs; waiting up to \(Int(settings.waitTimeoutSeconds)) s")
            try membership.waitUntil({ eligible.count >= need }, seconds: settings.waitTimeoutSeconds, need: need)
        }
        try form(eligible)
        for entry in replay.entries {
            let tally = try run(entry.work, rate: entry.rate, rotation: entry.rotation)
            guard tally.finite else { throw RingBroken(reason: "step \(entry.work.globalStep) was not finite when repeated") }
        }
    }

    private func form(_ members: [Membership.Member]) throws {
        generation += 1
        announced = nil
        early.removeAll(keepingCapacity: true)
        brokenReason = nil
        ring = members
        let partition = RingPartition(parameterCount: parameterCount, size: members.count)
        let weights = try ZMQMessage(copying: UnsafeRawBufferPointer(snapshot.weights))
        for (rank, member) in members.enumerated() {
            let owned = partition.owned(rank: rank)
            let setup = RingSetup(
                generation: generation, step: snapshotStep, rank: UInt32(rank), size: UInt32(members.count),
                rightNeighbour: members[(rank + 1) % members.count].ringEndpoint!,
                momentum: optimiser.momentum, nesterov: optimiser.nesterov, weightDecay: optimiser.weightDecay,
                ownedStart: UInt64(owned.lowerBound), ownedCount: UInt64(owned.count), weights: weights,
                velocity: try ZMQMessage(copying: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: snapshot.velocity[owned]))))
            try membership.send(to: member.peer, WireMessage.ringSetup(setup))
        }
        membership.log("coordinator: ring generation \(generation): \(members.map { "worker \($0.id)" }.joined(separator: " -> ")) -> back to the first")
    }

    // MARK: - One step on the ring

    /// Sends the step's work (unless it went out ahead) and, given `next`,
    /// the next step's, so members have it when they finish this one; then
    /// waits for every member's report.
    private func run(_ work: StepWork, rate: Float, rotation: Int, next: UpcomingStep? = nil) throws -> StepTally {
        guard let ring else { throw RingBroken(reason: "no ring") }
        let step = UInt64(work.globalStep)
        pendingStep = step
        defer { pendingStep = nil }
        waiting.removeAll(keepingCapacity: true)
        waiting.append(contentsOf: repeatElement(true, count: ring.count))
        waitingCount = ring.count
        (replies, slowestCompute, stalled) = (StepTally(), 0, false)
        let sentAhead = rotation == 0 && announced.map { $0 == (step, generation) } == true
        if sentAhead {
            for (rank, done) in early { record(done, rank: rank) }
        }
        early.removeAll(keepingCapacity: true)
        announced = nil
        if !sentAhead { try send(work, rate: rate, rotation: rotation, to: ring) }
        // Not when the state is read before the next step: members would
        // already be taking it.
        if let next, replay.count + 1 < Self.snapshotInterval, !joinersWaiting(ring) {
            try send(next.work, rate: next.learningRate, rotation: 0, to: ring)
            announced = (UInt64(next.work.globalStep), generation)
        }
        try waitFor { waitingCount == 0 }
        if stalled { throw RingBroken(reason: "a member stopped hearing from its neighbour in step \(step)") }
        computeNanoseconds += slowestCompute
        return replies
    }

    /// One step's work to every member, in the frames kept for that step's
    /// parity: the other set may still carry the step before, sent ahead.
    private func send(_ work: StepWork, rate: Float, rotation: Int, to ring: [Membership.Member]) throws {
        let batchSamples = work.shards.reduce(0) { $0 + $1.count }
        let parity = work.globalStep & 1
        while shardFrames[parity].count < ring.count { shardFrames[parity].append(ShardFrames()) }
        for (rank, member) in ring.enumerated() {
            let block = Self.block(of: (rank + rotation) % ring.count, shardCount: work.shards.count, members: ring.count)
            let frames = shardFrames[parity][rank]
            frames.fill(from: data, work: work, block: block)
            let message = RingWork(
                generation: generation, step: UInt64(work.globalStep), learningRate: rate,
                batchSamples: UInt32(batchSamples), shards: frames.shards, pixels: frames.pixelFrame,
                labels: frames.labelFrame)
            try membership.send(to: member.peer, .ringWork(message))
        }
    }

    private func joinersWaiting(_ ring: [Membership.Member]) -> Bool {
        membership.members.contains { member in member.ringEndpoint != nil && !ring.contains { $0.peer == member.peer } }
    }

    private func record(_ done: RingDone, rank: Int) {
        waiting[rank] = false
        waitingCount -= 1
        switch done.status {
        case .updated: break
        case .nonFinite: replies.finite = false
        case .stalled: stalled = true
        }
        replies.add(lossFixed: done.lossSumFixedPoint, correct: Int(done.correct), samples: Int(done.sampleCount))
        slowestCompute = max(slowestCompute, done.computeNanoseconds)
    }

    /// Contiguous blocks, as even as possible: member `index` of `members` gets this one.
    static func block(of index: Int, shardCount: Int, members: Int) -> Range<Int> {
        (index * shardCount / members)..<((index + 1) * shardCount / members)
    }

    /// Gathers every member's slice of weights and momentum into the snapshot.
    private func gatherState() throws {
        guard let ring else { throw RingBroken(reason: "no ring") }
        pendingState = (lastStep, Set(ring.map(\.peer)))
        defer { pendingState = nil }
        snapshot.startGathering()
        for member in ring {
            try membership.send(to: member.peer, WireMessage.stateRequest(StateRequest(generation: generation, step: lastStep)))
        }
        try waitFor { pendingState!.waiting.isEmpty }
        snapshot.commit()
        replay.removeAll()
    }

    private func waitFor(_ done: () -> Bool) throws {
        while !done() {
            if let reason = brokenReason { throw RingBroken(reason: reason) }
            try membership.receiveOne(timeoutMilliseconds: 50)
            try membership.dropSilentMembers()
        }
        if let reason = brokenReason { throw RingBroken(reason: reason) }
    }

    // MARK: - Receiving

    private func receive(_ message: WireMessage, from member: Membership.Member) throws {
        switch message {
        case .ringDone(let done) where pendingState != nil && done.status == .stalled && done.generation == generation:
            // Asked for its state while not at the step it was asked about (it
            // took work sent ahead, and a stop came between): the ring cannot
            // give a consistent state, so a new one is formed from the snapshot.
            brokenReason = "worker \(member.id) was not at step \(done.step) when asked for its state"
        case .ringDone(let done):
            guard done.generation == generation, let rank = ring?.firstIndex(where: { $0.peer == member.peer }) else {
                return membership.reject(from: member.peer, because: "ring done for generation \(done.generation), step \(done.step), not the current one; dropped")
            }
            if done.step == pendingStep, waiting[rank] {
                record(done, rank: rank)
            } else if let (step, ring) = announced, done.step == step, ring == generation, !early.contains(where: { $0.rank == rank }) {
                // A member that finished this step went straight on to the one
                // sent ahead, and its report overtook a slower member's.
                early.append((rank, done))
            } else {
                membership.reject(from: member.peer, because: "ring done for generation \(done.generation), step \(done.step), not the current one; dropped")
            }
        case .stateSlice(let slice):
            guard slice.generation == generation, let pending = pendingState, pending.waiting.contains(member.peer),
                  let rank = ring?.firstIndex(where: { $0.peer == member.peer }) else {
                return membership.reject(from: member.peer, because: "state slice for generation \(slice.generation) not asked for; dropped")
            }
            let owned = RingPartition(parameterCount: parameterCount, size: ring!.count).owned(rank: rank)
            guard Int(slice.start) == owned.lowerBound, Int(slice.count) == owned.count else {
                membership.reject(from: member.peer, because: "state slice \(slice.start)+\(slice.count), rank \(rank) owns \(owned)")
                return try membership.expel(member.peer, because: "sent a state slice that is not its own")
            }
            slice.weights.withUnsafeElements(of: Float.self) { weights in
                slice.velocity.withUnsafeElements(of: Float.self) { velocity in
                    snapshot.gather(owned, weights: weights, velocity: velocity)
                }
            }
            pendingState!.waiting.remove(member.peer)
        default:
            membership.reject(from: member.peer, because: "unexpected \(message.kind) from a ring member")
        }
    }
}
