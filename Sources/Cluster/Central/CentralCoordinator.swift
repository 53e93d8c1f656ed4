import Clock
import Collective
import Datasets
import MLP
import Training
import Wire

/// The coordinator's side of the central collective: sends each member its
/// micro-shards with the current weights, and adds their fixed-point
/// gradient sums as they arrive (`CentralReduction`). To the
/// AveragingUpdater that makes the update, it is the GradientSource.
///
/// Failures change who computes a shard, never the result: a worker lost
/// (silent past the peer timeout, or expelled) hands its shards to the live
/// workers within the same step (or, if none is left, to the next one to
/// join); a worker may join at any time; a reply counts only for the current
/// step and exactly the shards its sender holds, so late and duplicate
/// replies are dropped. A member that holds shards past the step deadline
/// is expelled and its shards move on.
///
/// With --verify-fraction, a seeded sample of shards is computed twice and
/// the answers compared (`ShardVerification`); a member whose answer the
/// coordinator's own third computation contradicts is expelled and denied,
/// and the step is gathered again without it, so the model stays the
/// undisturbed run's.
final class CentralCoordinator: CoordinatorCollective, GradientSource {
    private unowned let coordinator: Coordinator
    private let reduction = CentralReduction<PeerID>()
    private var current: StepWork?
    /// The weights, sent without a copy: lent for the step, settled when it ends.
    private let weightFrame = ZMQMessage()
    /// Over a network, each member is sent the weights as steps from those
    /// it holds, when it holds the last step's (about 2.5 bytes a weight
    /// instead of 4); through a Unix socket the copy is cheaper than packing.
    private lazy var weightSteps = coordinator.endpoint.hasPrefix("ipc://") ? nil : WeightSteps(parameterCount: architecture.parameterCount)
    /// The first raw gradient frame of a step, kept as the sum's storage
    /// (no 4 MB copy) until the step is over.
    private var adoptedFrame: ZMQMessage?
    /// Each member's frames for its first work of a step, and frames of lost members for the next to join.
    private var startFrames: [PeerID: ShardFrames] = [:]
    private var spareFrames: [ShardFrames] = []
    /// Read before the next step starts (which clears it): no copy in a step that was finite.
    var nonFiniteFrom: [PeerID] { reduction.nonFiniteFrom }
    private var stepDeadline = Deadline(seconds: 0)
    private let sample: VerificationSample
    private var verifying = false
    private var checks = ShardChecks()
    private let architecture: Architecture
    private let shardSize: Int
    private let gradientOptions: GradientOptions
    private lazy var comparison = AnswerComparison(parameterCount: architecture.parameterCount)
    /// The coordinator's own computation of a shard two members disagree on.
    private lazy var referee = ShardGradientComputer(architecture: architecture, shardSize: shardSize, options: gradientOptions)
    private lazy var refereeSum = GradientSum(parameterCount: architecture.parameterCount)

    init(coordinator: Coordinator, configuration: TrainingConfiguration) {
        self.coordinator = coordinator
        architecture = configuration.architecture
        shardSize = configuration.shardSize
        gradientOptions = configuration.gradientOptions
        sample = VerificationSample(fraction: coordinator.settings.verifyFraction, seed: configuration.seed)
    }

    private var membership: Membership { coordinator.membership }

    func canTakePart(_ member: Member) -> Bool { true }

    var stepMembers: Int { membership.members.count }

    var workerCount: Int { stepMembers }

    func compute(_ work: StepWork, weights: LendableBuffer<Float>, into sum: GradientSum) throws {
        weightFrame.refer(to: UnsafeRawBufferPointer(weights.lendAll()))
        try weightSteps?.begin(step: UInt64(work.globalStep), weights: weights.readOnly)
        current = work
        defer {
            current = nil
            reduction.finish()
            // Every member that was sent these has answered, or was dropped
            // and its answer is refused.
            weights.settle()
            for frames in startFrames.values { frames.settle() }
        }
        try gather(work, into: sum)
        while try !liarsRemoved(work, weights: weights.readOnly) {
            // A liar's part may be in the sum: the step once more without it.
            for frames in startFrames.values { frames.settle() }
            sum.reset()
            try gather(work, into: sum)
        }
    }

    /// Sends the step's shards out and waits until every shard (and every
    /// check of a sampled one) is answered.
    private func gather(_ work: StepWork, into sum: GradientSum) throws {
        adoptedFrame = nil
        checks.removeAll()
        let excluded = work.attempt > 0 ? nonFiniteFrom : []
        let members = excluded.isEmpty ? membership.members : membership.members.filter { !excluded.contains($0.peer) }
        verifying = sample.fraction > 0 && members.count >= 2
        try reduction.start(
            into: sum, shardSamples: work.shards.lazy.map(\.count), memberCount: members.count,
            member: { members[$0].peer }, give: sendFirst)
        stepDeadline = Deadline(seconds: coordinator.settings.stepTimeout)
        try coordinator.wait(pausing: true) {
            if reduction.isComplete, checks.isSettled { return true }
            if reduction.assignment.hasOrphans, !membership.members.isEmpty {
                try send(reduction.adoptOrphans(by: membership.members.map(\.peer)))
            }
            if stepDeadline.hasPassed { try expelLate(work) }
            return false
        }
    }

    /// Members still holding shards or checks at the step deadline are
    /// expelled; their work goes to the others, who get a fresh deadline.
    private func expelLate(_ work: StepWork) throws {
        let late = reduction.assignment.outstandingHolders + checks.awaited
        let seconds = coordinator.settings.stepTimeout
        for peer in late where membership.member(peer) != nil {
            try membership.expel(peer, because: "held its shards of step \(work.globalStep) past the step deadline (\(seconds) s)")
        }
        stepDeadline = Deadline(seconds: seconds)
    }

    // MARK: - Verification

    /// Who computes `shard` a second time: another member than its holder.
    private func checker(of shard: Int, holder: PeerID) -> PeerID? {
        let others = membership.members.lazy.map(\.peer).filter { $0 != holder }
        return others.isEmpty ? nil : Array(others)[shard % others.count]
    }

    /// Settles the step's disagreements: the coordinator computes each such
    /// shard itself, and whoever differs from it is expelled and denied.
    /// False if any liar was found: its other shards of the step, unchecked,
    /// may be in the sum too.
    private func liarsRemoved(_ work: StepWork, weights: UnsafeBufferPointer<Float>) throws -> Bool {
        var sumIsClean = true
        for check in checks.answered {
            guard let holderAnswer = check.holderAnswer, let checkerAnswer = check.checkerAnswer, let checker = check.checker,
                  !comparison.agree(holderAnswer, checkerAnswer) else { continue }
            try referee.computeAlone(check.shard, of: work, from: coordinator.data, weights: weights, into: refereeSum)
            let tally = StepTally(refereeSum)
            let liars = [(check.holder, holderAnswer), (checker, checkerAnswer)].filter { _, answer in
                !comparison.agree(answer, values: UnsafeBufferPointer(refereeSum.values), lossFixed: tally.lossFixed,
                                  correct: tally.correct, samples: tally.samples)
            }.map(\.0)
            let named = liars.map { membership.member($0)?.label ?? "a lost worker" }
            coordinator.output.log("coordinator: shard \(check.shard) of step \(work.globalStep) answered differently by two workers; computed a third time here, \(named.joined(separator: " and ")) disagree\(liars.count == 1 ? "s" : "")")
            for liar in liars {
                try membership.expel(
                    liar, because: "sent a gradient for shard \(check.shard) of step \(work.globalStep) that the other two computations of it contradict",
                    deny: true)
            }
            if !liars.isEmpty { sumIsClean = false }
        }
        return sumIsClean
    }

    // MARK: - Sending work

    /// A step's first work for `peer`, in that member's kept frames.
    private func sendFirst(_ peer: PeerID, _ block: Range<Int>) throws {
        guard let work = current else { return }
        if verifying, block.contains(where: { sample.contains(step: work.globalStep, shard: $0) }) {
            return try sendSampled(peer, block, work: work)
        }
        let frames = startFrames[peer] ?? spareFrames.popLast() ?? ShardFrames()
        startFrames[peer] = frames
        try frames.fill(from: coordinator.data, work: work, block: block)
        frames.lend()
        let (weights, encoding, base) = weightsFrame(for: peer)
        let message = Work(
            step: UInt64(work.globalStep), shards: frames.shards, weights: weights, weightsEncoding: encoding, baseStep: base,
            pixels: frames.pixelFrame, labels: frames.labelFrame)
        StepLaunchTrace.mark(.sent, step: message.step)
        try membership.send(to: peer, .work(message))
    }

    /// A block with sampled shards: each of those goes alone, to its holder
    /// and to a checker, so that the two answers can be compared.
    private func sendSampled(_ peer: PeerID, _ block: Range<Int>, work: StepWork) throws {
        let sampled = block.filter { sample.contains(step: work.globalStep, shard: $0) }
        let rest = block.filter { !sample.contains(step: work.globalStep, shard: $0) }
        if !rest.isEmpty { try send([(peer, rest)]) }
        for shard in sampled {
            let checker = checker(of: shard, holder: peer)
            checks.add(shard: shard, holder: peer, checker: checker)
            try send([(peer, [shard])] + (checker.map { [($0, [shard])] } ?? []))
        }
    }

    /// Later sends in a step, after a failure, in fresh frames: the kept
    /// ones may still be on their way.
    private func send(_ blocks: [(PeerID, [Int])]) throws {
        guard let work = current else { return }
        for (peer, block) in blocks {
            let (pixels, labels, shards) = try ShardFrames.fresh(from: coordinator.data, work: work, block: block)
            let (weights, encoding, base) = weightsFrame(for: peer)
            let message = Work(
                step: UInt64(work.globalStep), shards: shards, weights: weights, weightsEncoding: encoding, baseStep: base,
                pixels: pixels, labels: labels)
            StepLaunchTrace.mark(.sent, step: message.step)
            try membership.send(to: peer, .work(message))
        }
    }

    /// The weights for `peer`'s work of this step, in the fewest bytes it can read.
    private func weightsFrame(for peer: PeerID) -> (ZMQMessage, Work.WeightsEncoding, UInt64) {
        weightSteps?.frame(for: peer) ?? (weightFrame, .raw, 0)
    }

    // MARK: - Members' messages

    func received(_ message: WireMessage, from member: Member) throws {
        guard case .gradient(let reply) = message else {
            return membership.reject(from: member.peer, because: "unexpected \(message.kind) from a worker")
        }
        guard let work = current, reply.step == UInt64(work.globalStep) else {
            return membership.reject(from: member.peer, because: "gradient for step \(reply.step), not the current step; dropped")
        }
        var sampledHolder = false
        if reply.shardIDs.count == 1, let shard = reply.shardIDs.first.map(Int.init) {
            if checks.awaitsCheck(of: shard, from: member.peer) {
                guard shard < work.shards.count, Int(reply.sampleCount) == work.shards[shard].count else {
                    membership.reject(from: member.peer, because: "check of shard \(shard) with \(reply.sampleCount) samples; dropped")
                    return try membership.expel(member.peer, because: "sent a gradient that does not match its work")
                }
                checks.recordCheck(of: shard, reply)
                return coordinator.recordCompute(reply.computeNanoseconds, from: member)
            }
            sampledHolder = checks.awaitsHolder(of: shard, from: member.peer)
        }
        let partial: CentralReduction<PeerID>.Partial
        // A sampled shard's frame is kept for comparison: the sum must not adopt it and add onto it.
        if let values = reply.valuesInPlace, !sampledHolder {
            partial = .inPlace(values)
        } else {
            partial = .written { target, overwrite in reply.unpack(into: target, overwrite: overwrite) }
        }
        switch reduction.accept(
            reply.shardIDs.lazy.map(Int.init), from: member.peer, samples: Int(reply.sampleCount),
            lossFixed: reply.lossSumFixedPoint, correct: Int(reply.correct), values: partial) {
        case .added:
            if sampledHolder, let shard = reply.shardIDs.first { checks.recordHolder(of: Int(shard), reply) }
        case .adopted: adoptedFrame = reply.gradient
        case .refused(let reason):
            membership.reject(from: member.peer, because: "\(reason); dropped")
            return try membership.expel(member.peer, because: "sent a gradient that does not match its work")
        }
        coordinator.recordCompute(reply.computeNanoseconds, from: member)
    }

    func lost(_ member: Member) throws {
        weightSteps?.forget(member.peer)
        if let frames = startFrames.removeValue(forKey: member.peer) {
            // Its answer will be refused, so the frames can carry a newcomer's work.
            frames.settle()
            spareFrames.append(frames)
        }
        guard current != nil else { return }
        let moved = checks.lose(member.peer) { holder, shard in checker(of: shard, holder: holder) }
        try send(moved.map { ($0.checker, [$0.shard]) })
        try send(reduction.reassign(from: member.peer, to: membership.members.map(\.peer)))
        // Those who take its work on get the time to do it.
        stepDeadline = Deadline(seconds: coordinator.settings.stepTimeout)
    }
}
