import Clock
import Collective
import MLP
import Training
import Wire

/// The coordinator's side of the ring collective. It only orchestrates:
/// each step's micro-shards and learning rate, the ring's order and
/// generation, and snapshots for checkpoints. Gradients never reach it; the
/// workers reduce-scatter them, update one slice each, and all-gather the
/// weights (`RingAllReduce`). To the Coordinator it is the ParameterUpdater.
///
/// Failures: momentum lives only on the workers, one slice each, so a lost
/// member takes its slice with it. The coordinator therefore keeps a
/// snapshot of the whole state (gathered every `snapshotInterval` steps and
/// whenever a checkpoint or an evaluation needs it) and the list of steps
/// taken since. When the ring breaks (a member lost, silent, or stalled)
/// it forms a new ring from the live workers, hands out the snapshot, and
/// replays those steps: the exact maths makes the replay give the same
/// bits, so the run goes on as if nothing had happened.
///
/// With --verify-fraction, sampled shards are computed twice and their
/// digests compared (`RingVerification`); a member the coordinator's own
/// third computation contradicts is expelled and denied, and the step is
/// taken again without it.
final class RingCoordinator: CoordinatorCollective, ParameterUpdater {
    /// Why the current ring cannot finish its work.
    private struct RingBroken: Error {
        let reason: String
    }

    /// Steps between snapshots: bounds the replay after a failure, at the
    /// cost of moving the state to the coordinator once in that many steps.
    static let snapshotInterval = 64
    /// Re-formations without a finished step in between before giving up.
    static let maxFailuresInARow = 8

    private unowned let coordinator: Coordinator
    private let optimiser: OptimiserSettings
    private let clipping: GradientClipping
    private let parameterCount: Int
    private let snapshot: RingSnapshot
    private var replay = ReplayLog()
    private var ring: [Member]?
    /// The parameters each rank of the ring updates.
    private var ownedRanges: [Range<Int>] = []
    private var generation: UInt64 = 0
    private var brokenReason: String?
    private var failuresInARow = 0
    /// The step in flight: who has yet to report it, and what they reported.
    private var pendingStep: UInt64?
    private var waiting: [Bool] = []
    private var waitingCount = 0
    private var replies = StepTally()
    private var stalled = false
    private(set) var nonFiniteFrom: [PeerID] = []
    /// Each ring member's work frames, by step parity and rank.
    private var shardFrames: [[ShardFrames]] = [[], []]
    /// The step whose work went out ahead, and to which ring.
    private var announced: (step: UInt64, generation: UInt64)?
    /// Reports of that step that came before its turn.
    private var early: [(rank: Int, done: RingDone)] = []
    private var pendingState: (step: UInt64, waiting: Set<PeerID>)?
    /// Verified gradients: each step's checks by parity (as the frames), and
    /// the digests each rank reported for the step in flight.
    private let sample: VerificationSample
    private var checkPlans: [[RingCheck]] = [[], []]
    private var reported: [[ShardDigest]] = []
    /// Each rank's block of shards in the step being sent.
    private var blocks: [Range<Int>] = []
    private let configuration: TrainingConfiguration
    private lazy var referee = RingReferee(data: coordinator.data, configuration: configuration)
    /// The step last started again from the log's state after a dispute: a
    /// dispute on its retake is judged on a state the coordinator knows.
    private var judgedOnLog: Int?

    init(coordinator: Coordinator, configuration: TrainingConfiguration) {
        self.coordinator = coordinator
        self.configuration = configuration
        optimiser = configuration.optimiser
        clipping = configuration.clipping
        parameterCount = configuration.architecture.parameterCount
        snapshot = RingSnapshot(parameterCount: parameterCount, planes: configuration.optimiser.statePlanes)
        sample = VerificationSample(fraction: coordinator.settings.verifyFraction, seed: configuration.seed)
    }

    private var membership: Membership { coordinator.membership }

    /// Steps taken so far: the snapshot's, and those logged since.
    private var stepsTaken: UInt64 { snapshot.step + UInt64(replay.count) }

    func canTakePart(_ member: Member) -> Bool { member.ringEndpoint != nil }

    var stepMembers: Int { ring?.count ?? coordinator.participantCount }

    var workerCount: Int { stepMembers }

    // MARK: - ParameterUpdater

    func step(_ work: StepWork, learningRate: Float, next: UpcomingStep?) throws -> StepTally {
        let excluded = work.attempt > 0 ? nonFiniteFrom : []
        while true {
            do {
                try prepareRing()
                let tally = try run(work, rate: learningRate, excluding: excluded, next: next, verify: true)
                lastGradientNorm = tally.gradientNorm
                // A step that was not finite changed nothing (every member skipped it).
                if tally.finite { replay.append(work, rate: learningRate, excluded: excluded) }
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

    /// Compute time is recorded with the Coordinator as reports arrive.
    func takeComputeNanoseconds() -> UInt64 { 0 }

    /// With --clip-norm, the norm the members clipped by; none otherwise
    /// (the gradient stays on the workers).
    private(set) var lastGradientNorm: Double?

    func state() throws -> ModelState {
        // A stop signal must not cut short the state its checkpoint needs.
        try coordinator.ignoringStops {
            while !replay.isEmpty {
                do {
                    try prepareRing()
                    try gatherState()
                } catch let broken as RingBroken {
                    try ringFailed(broken)
                }
            }
        }
        return ModelState(weights: UnsafeBufferPointer(snapshot.weights), velocity: UnsafeBufferPointer(snapshot.velocity))
    }

    func load(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>, step: Int) throws {
        snapshot.load(weights: weights, velocity: velocity, step: UInt64(step))
        replay.removeAll()
        ring = nil
    }

    // MARK: - Forming the ring

    private func ringFailed(_ broken: RingBroken) throws {
        ring = nil
        failuresInARow += 1
        coordinator.output.log("coordinator: ring generation \(generation) broke: \(broken.reason); forming a new one and repeating the \(replay.count) step\(replay.count == 1 ? "" : "s") since the last snapshot")
        guard failuresInARow <= Self.maxFailuresInARow else { throw ClusterError.ringUnstable(failures: failuresInARow, last: broken.reason) }
    }

    /// Makes sure a ring holds the state of the last step: takes a snapshot
    /// when one is due or new workers wait to join, and forms a new ring
    /// (replaying since the snapshot) when there is none.
    private func prepareRing() throws {
        if let current = ring {
            // Joiners wait while a step's work is out ahead: members may be taking it.
            let joiners = announced == nil && joinersWaiting(current)
            if joiners || replay.count >= Self.snapshotInterval {
                try gatherState()
                if joiners { ring = nil }
            }
        }
        guard ring == nil else { return }
        try coordinator.pauseWhileTooFew()
        try form(coordinator.participants)
        for entry in replay.entries {
            let tally = try run(entry.work, rate: entry.rate, excluding: entry.excluded)
            guard tally.finite else { throw RingBroken(reason: "step \(entry.work.globalStep) was not finite when repeated") }
        }
    }

    private func form(_ participants: [Member]) throws {
        // Members of one host side by side, so that as many links as
        // possible are shared memory. Any order gives the same sums.
        let hosts = participants.reduce(into: [String]()) { seen, member in
            if !seen.contains(member.ringHost) { seen.append(member.ringHost) }
        }
        let members = participants.enumerated().sorted { a, b in
            let (hostA, hostB) = (hosts.firstIndex(of: a.element.ringHost)!, hosts.firstIndex(of: b.element.ringHost)!)
            return hostA != hostB ? hostA < hostB : a.offset < b.offset
        }.map(\.element)
        generation += 1
        announced = nil
        early.removeAll(keepingCapacity: true)
        brokenReason = nil
        ring = members
        // Work frames of the old ring went to members that are gone or take a
        // new setup first: their answers to it are refused.
        for frames in shardFrames.joined() { frames.settle() }
        let layout = twoLevelLayout(members)
        let partition = RingPartition(parameterCount: parameterCount, size: members.count)
        ownedRanges = members.indices.map { layout?.owned(rank: $0) ?? partition.owned(rank: $0) }
        let weights = try ZMQMessage(copying: UnsafeRawBufferPointer(snapshot.weights))
        // Link r carries rank r's chunks to rank r + 1 (two levels: to the
        // next host; `shared`, to the next member of its host): unguessable,
        // fresh for every ring.
        var random = SystemRandomNumberGenerator()
        let tokens = members.map { _ in random.next() as UInt64 }
        let sharedTokens = members.map { _ in random.next() as UInt64 }
        for (rank, member) in members.enumerated() {
            let owned = ownedRanges[rank]
            // The socket neighbours, and the shared-memory ones.
            let (left, right) = layout.map { ($0.hostLeft(of: rank), $0.hostRight(of: rank)) }
                ?? ((rank + members.count - 1) % members.count, (rank + 1) % members.count)
            let (sharedLeft, sharedRight) = layout.map { ($0.localLeft(of: rank), $0.localRight(of: rank)) } ?? (left, right)
            var setup = RingSetup(
                generation: generation, step: snapshot.step, rank: UInt32(rank), size: UInt32(members.count),
                rightNeighbour: members[right].ringEndpoint!,
                momentum: optimiser.momentum, nesterov: optimiser.nesterov, weightDecay: optimiser.weightDecay,
                ownedStart: UInt64(owned.lowerBound), ownedCount: UInt64(owned.count), weights: weights,
                velocity: try snapshot.ownedState(owned).withUnsafeBytes { try ZMQMessage(copying: $0) },
                rightNeighbourKey: members[right].ringPublicKey, leftNeighbourKey: members[left].ringPublicKey,
                leftLinkToken: tokens[left], rightLinkToken: tokens[rank],
                optimiserKind: UInt8(OptimiserKind.allCases.firstIndex(of: optimiser.kind)!),
                beta1: optimiser.beta1, beta2: optimiser.beta2, epsilon: optimiser.epsilon,
                clipValue: clipping.maxValue ?? 0, clipNorm: clipping.maxNorm ?? 0)
            let shared = layout == nil ? tokens : sharedTokens
            if let layout {
                setup.hostSize = UInt32(layout.perHost)
                (setup.sharedLeftToken, setup.sharedRightToken) = (sharedTokens[sharedLeft], sharedTokens[rank])
            }
            if sharesMemory(from: members[sharedLeft], to: member) {
                setup.inboxSegment = SharedMemoryFolder.segmentPath(prefix: member.ringSharedInboxPrefix, token: shared[sharedLeft])
            }
            if sharesMemory(from: member, to: members[sharedRight]) {
                setup.outboxSegment = SharedMemoryFolder.segmentPath(prefix: members[sharedRight].ringSharedInboxPrefix, token: shared[rank])
            }
            try membership.send(to: member.peer, WireMessage.ringSetup(setup))
        }
        if let layout {
            coordinator.output.info("coordinator: ring generation \(generation) in two levels: \(layout.hosts) hosts of \(layout.perHost) workers, shared memory inside each host, one ring between hosts per local rank")
        }
        coordinator.output.info("coordinator: ring generation \(generation): \(members.map { "worker \($0.id)" }.joined(separator: " -> ")) -> back to the first")
    }

    /// Two levels when the members fill two or more hosts evenly, two or
    /// more on each, every link inside a host in shared memory, and no
    /// clipping by norm (which needs the whole gradient's norm on one ring).
    /// Members come grouped by host.
    private func twoLevelLayout(_ members: [Member]) -> TwoLevelLayout? {
        guard coordinator.settings.hierarchical, clipping.maxNorm == nil else { return nil }
        var hosts: [[Member]] = []
        for member in members {
            if let last = hosts.last?.last, last.ringHost == member.ringHost { hosts[hosts.count - 1].append(member) } else { hosts.append([member]) }
        }
        let perHost = hosts.first?.count ?? 0
        guard hosts.count >= 2, perHost >= 2, hosts.allSatisfy({ $0.count == perHost }),
              hosts.allSatisfy({ host in host.indices.allSatisfy { sharesMemory(from: host[$0], to: host[($0 + 1) % perHost]) } })
        else { return nil }
        return TwoLevelLayout(parameterCount: parameterCount, hosts: hosts.count, perHost: perHost)
    }

    /// Whether the link from `sender` to `receiver` goes through shared
    /// memory: both on one host, the receiver able to make inboxes, and
    /// never a member with itself (a ring of one has no links).
    private func sharesMemory(from sender: Member, to receiver: Member) -> Bool {
        coordinator.settings.sharedMemory && sender.peer != receiver.peer && !sender.ringHost.isEmpty
            && sender.ringHost == receiver.ringHost && !receiver.ringSharedInboxPrefix.isEmpty
    }

    // MARK: - One step on the ring

    /// Sends the step's work (unless it went out ahead) and, given `next`,
    /// the next step's, so members have it when they finish this one; then
    /// waits for every member's report.
    private func run(
        _ work: StepWork, rate: Float, excluding excluded: [PeerID], next: UpcomingStep? = nil, verify: Bool = false
    ) throws -> StepTally {
        guard let ring else { throw RingBroken(reason: "no ring") }
        let step = UInt64(work.globalStep)
        pendingStep = step
        defer { pendingStep = nil }
        waiting.removeAll(keepingCapacity: true)
        waiting.append(contentsOf: repeatElement(true, count: ring.count))
        waitingCount = ring.count
        (replies, stalled) = (StepTally(), false)
        nonFiniteFrom.removeAll(keepingCapacity: true)
        reported.removeAll(keepingCapacity: true)
        reported.append(contentsOf: repeatElement([], count: ring.count))
        let sentAhead = excluded.isEmpty && announced.map { $0 == (step, generation) } == true
        if sentAhead {
            for (rank, done) in early { record(done, rank: rank) }
        }
        early.removeAll(keepingCapacity: true)
        // A later step announced by an earlier attempt at this one stays
        // announced: its members hold it, and its frames may still be on their way.
        if announced?.step == step { announced = nil }
        if !sentAhead { try send(work, rate: rate, excluding: excluded, to: ring, verify: verify) }
        // Not when the state is read before the next step: members would
        // already be taking it.
        if let next, announced == nil, replay.count + 1 < Self.snapshotInterval, !joinersWaiting(ring) {
            try send(next.work, rate: next.learningRate, excluding: [], to: ring, verify: true)
            announced = (UInt64(next.work.globalStep), generation)
        }
        try waitFor { waitingCount == 0 }
        if stalled { throw RingBroken(reason: "a member stopped hearing from its neighbour in step \(step)") }
        let checks = checkPlans[work.globalStep & 1]
        if !checks.isEmpty, replies.finite { try settleDisputes(checks, of: work) }
        return replies
    }

    /// One step's work to every member, in the frames kept for that step's
    /// parity: the other set may still carry the step before, sent ahead.
    /// Members in `excluded` get no shards but still take their part in the ring.
    /// With `verify`, the step's sampled shards go to a checker too (`RingCheck`).
    private func send(_ work: StepWork, rate: Float, excluding excluded: [PeerID], to ring: [Member], verify: Bool) throws {
        let parity = work.globalStep & 1
        while shardFrames[parity].count < ring.count { shardFrames[parity].append(ShardFrames()) }
        var computing = excluded.isEmpty ? ring.count : ring.count { !excluded.contains($0.peer) }
        let excluded = computing == 0 ? [] : excluded
        if computing == 0 { computing = ring.count }
        var index = 0
        blocks.removeAll(keepingCapacity: true)
        for member in ring {
            var block = 0..<0
            if excluded.isEmpty || !excluded.contains(member.peer) {
                block = ShardBlocks.block(index, of: computing, shardCount: work.shards.count)
                index += 1
            }
            blocks.append(block)
        }
        checkPlans[parity] = verify ? RingCheck.plan(step: work.globalStep, blocks: blocks, sample: sample) : []
        let checks = checkPlans[parity]
        for (rank, member) in ring.enumerated() {
            let message: RingWork
            if checks.isEmpty {
                let frames = shardFrames[parity][rank]
                try frames.fill(from: coordinator.data, work: work, block: blocks[rank])
                frames.lend()
                message = RingWork(
                    generation: generation, step: UInt64(work.globalStep), learningRate: rate,
                    batchSamples: UInt32(work.sampleCount), shards: frames.shards, pixels: frames.pixelFrame,
                    labels: frames.labelFrame)
            } else {
                // A sampled step, rare: its own frames, with the shards this member checks after its own.
                let checked = checks.filter { $0.checker == rank }.map(\.shard)
                let digested = checks.filter { $0.holder == rank || $0.checker == rank }.map { UInt32($0.shard) }
                let (pixels, labels, shards) = try ShardFrames.fresh(
                    from: coordinator.data, work: work, block: Array(blocks[rank]) + checked)
                message = RingWork(
                    generation: generation, step: UInt64(work.globalStep), learningRate: rate,
                    batchSamples: UInt32(work.sampleCount), shards: shards, ownCount: blocks[rank].count,
                    digested: digested, pixels: pixels, labels: labels)
            }
            StepLaunchTrace.mark(.sent, step: message.step)
            try membership.send(to: member.peer, .ringWork(message))
        }
    }

    /// Compares the digests of every check of the step just taken; on a
    /// disagreement the coordinator computes the shard itself (`RingReferee`)
    /// and throws: the ring restarts from the state before the step as the
    /// coordinator's log gives it, and takes the step again.
    ///
    /// Whoever differs from the referee while the other agrees is expelled
    /// and denied. If both differ, the ring's state before the step was not
    /// the log's: an earlier lie on an unsampled shard is in it, and honest
    /// members computed on it too. Nobody can be judged on that state, so
    /// the retake, from the log's state, decides; both differing there
    /// (`judgedOnLog`) are both expelled.
    private func settleDisputes(_ checks: [RingCheck], of work: StepWork) throws {
        guard let ring else { return }
        var caughtUp = false
        var liars: [Member] = []
        var stateDiffers = false
        for check in checks {
            let id = UInt32(check.shard)
            let holder = reported[check.holder].first { $0.shardID == id }?.hash
            let checker = reported[check.checker].first { $0.shardID == id }?.hash
            if let holder, holder == checker { continue }
            if !caughtUp {
                try referee.catchUp(from: snapshot, replay: replay)
                caughtUp = true
            }
            let truth = try referee.digest(of: check.shard, in: work)
            let answers: [(rank: Int, digest: SIMD4<UInt64>?)] = [(check.holder, holder), (check.checker, checker)]
            var wrong: [Member] = answers.filter { $0.digest != truth }.map { ring[$0.rank] }
            let named = wrong.map(\.label).joined(separator: " and ")
            if wrong.count == answers.count, judgedOnLog != work.globalStep {
                coordinator.output.log("coordinator: shard \(check.shard) of step \(work.globalStep) has different digests from two ring members, and neither is the one computed here from the log: the ring's state before the step is not the log's (a lie on an unsampled shard?); the step is taken again from the log's state")
                stateDiffers = true
                wrong = []
            } else {
                coordinator.output.log("coordinator: shard \(check.shard) of step \(work.globalStep) has different digests from two ring members; computed a third time here, \(named) disagree\(wrong.count == 1 ? "s" : "")")
            }
            for member in wrong where !liars.contains(where: { $0.peer == member.peer }) { liars.append(member) }
        }
        guard !liars.isEmpty || stateDiffers else { return }
        for liar in liars where membership.member(liar.peer) != nil {
            try membership.expel(
                liar.peer, because: "sent a digest of a shard of step \(work.globalStep) that the other two computations of it contradict",
                deny: true)
        }
        // The members applied the step with a wrong part: they start again from the log's state before it.
        let state = try referee.state()
        snapshot.load(weights: state.weights, velocity: state.velocity, step: stepsTaken)
        replay.removeAll()
        judgedOnLog = work.globalStep
        if liars.isEmpty { throw RingBroken(reason: "its state before step \(work.globalStep) was not the log's") }
        throw RingBroken(reason: "\(liars.map(\.label).joined(separator: " and ")) expelled for a wrong gradient in step \(work.globalStep); taking it again without")
    }

    private func joinersWaiting(_ ring: [Member]) -> Bool {
        membership.members.contains { member in member.ringEndpoint != nil && !ring.contains { $0.peer == member.peer } }
    }

    private func record(_ done: RingDone, rank: Int) {
        waiting[rank] = false
        waitingCount -= 1
        shardFrames[Int(done.step & 1)][rank].settle()
        switch done.status {
        case .updated:
            // Every member computed the same total from the same parts: any one's will do.
            if replies.gradientNorm == nil { replies.gradientNorm = done.gradientNorm }
        case .nonFinite: replies.add(lossFixed: FixedPoint.nonFiniteLoss, correct: 0, samples: 0)
        case .stalled: stalled = true
        }
        if done.lossSumFixedPoint == FixedPoint.nonFiniteLoss, let member = ring?[rank] { nonFiniteFrom.append(member.peer) }
        replies.add(lossFixed: done.lossSumFixedPoint, correct: Int(done.correct), samples: Int(done.sampleCount))
        if let member = ring?[rank] { coordinator.recordCompute(done.computeNanoseconds, from: member) }
        if !done.digests.isEmpty { reported[rank] = done.digests }
    }

    /// Gathers every member's slice of weights and momentum into the snapshot.
    private func gatherState() throws {
        guard let ring else { throw RingBroken(reason: "no ring") }
        let step = stepsTaken
        pendingState = (step, Set(ring.map(\.peer)))
        defer { pendingState = nil }
        snapshot.startGathering()
        for member in ring {
            try membership.send(to: member.peer, WireMessage.stateRequest(StateRequest(generation: generation, step: step)))
        }
        try waitFor { pendingState!.waiting.isEmpty }
        snapshot.commit(step: step)
        replay.removeAll()
    }

    /// The Coordinator's wait, ended early when the ring breaks. Members
    /// that have not reported by the step deadline are expelled, which
    /// breaks the ring: a new one is formed without them.
    private func waitFor(_ done: () -> Bool) throws {
        let deadline = Deadline(seconds: coordinator.settings.stepTimeout)
        try coordinator.wait {
            if let reason = brokenReason { throw RingBroken(reason: reason) }
            if done() { return true }
            if deadline.hasPassed { try expelLate() }
            return false
        }
        if let reason = brokenReason { throw RingBroken(reason: reason) }
    }

    private func expelLate() throws {
        guard let ring else { return }
        let late = ring.indices.filter { rank in
            (pendingStep != nil && waiting[rank]) || pendingState?.waiting.contains(ring[rank].peer) == true
        }
        let seconds = coordinator.settings.stepTimeout
        for rank in late {
            try membership.expel(ring[rank].peer, because: "did not report within the step deadline (\(seconds) s)")
        }
    }

    // MARK: - Members' messages

    func lost(_ member: Member) throws {
        if ring?.contains(where: { $0.peer == member.peer }) == true, brokenReason == nil {
            brokenReason = "\(member.label) was lost"
        }
    }

    func received(_ message: WireMessage, from member: Member) throws {
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
            let owned = ownedRanges[rank]
            guard Int(slice.start) == owned.lowerBound, Int(slice.count) == owned.count,
                  slice.velocity.count == snapshot.planes * owned.count * 4 else {
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
