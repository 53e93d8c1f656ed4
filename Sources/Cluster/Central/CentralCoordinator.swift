import Collective
import Datasets
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
/// replies are dropped.
final class CentralCoordinator: CoordinatorCollective, GradientSource {
    private unowned let coordinator: Coordinator
    private let reduction = CentralReduction<PeerID>()
    private var current: StepWork?
    /// The weights, sent without a copy: lent for the step, settled when it ends.
    private let weightFrame = ZMQMessage()
    /// The first raw gradient frame of a step, kept as the sum's storage
    /// (no 4 MB copy) until the step is over.
    private var adoptedFrame: ZMQMessage?
    /// Each member's frames for its first work of a step, and frames of lost members for the next to join.
    private var startFrames: [PeerID: ShardFrames] = [:]
    private var spareFrames: [ShardFrames] = []
    /// Read before the next step starts (which clears it): no copy in a step that was finite.
    var nonFiniteFrom: [PeerID] { reduction.nonFiniteFrom }

    init(coordinator: Coordinator) {
        self.coordinator = coordinator
    }

    private var membership: Membership { coordinator.membership }

    func canTakePart(_ member: Member) -> Bool { true }

    var stepMembers: Int { membership.members.count }

    var workerCount: Int { stepMembers }

    func compute(_ work: StepWork, weights: LendableBuffer<Float>, into sum: GradientSum) throws {
        weightFrame.refer(to: UnsafeRawBufferPointer(weights.lendAll()))
        adoptedFrame = nil
        current = work
        defer {
            current = nil
            reduction.finish()
            // Every member that was sent these has answered, or was dropped
            // and its answer is refused.
            weights.settle()
            for frames in startFrames.values { frames.settle() }
        }
        let excluded = work.attempt > 0 ? nonFiniteFrom : []
        if excluded.isEmpty {
            let members = membership.members
            try reduction.start(
                into: sum, shardSamples: work.shards.lazy.map(\.count), memberCount: members.count,
                member: { members[$0].peer }, give: sendFirst)
        } else {
            let members = membership.members.filter { !excluded.contains($0.peer) }
            try reduction.start(
                into: sum, shardSamples: work.shards.lazy.map(\.count), memberCount: members.count,
                member: { members[$0].peer }, give: sendFirst)
        }
        try coordinator.wait(pausing: true) {
            if reduction.isComplete { return true }
            if reduction.assignment.hasOrphans, !membership.members.isEmpty {
                try send(reduction.adoptOrphans(by: membership.members.map(\.peer)))
            }
            return false
        }
    }

    // MARK: - Sending work

    /// A step's first work for `peer`, in that member's kept frames.
    private func sendFirst(_ peer: PeerID, _ block: Range<Int>) throws {
        guard let work = current else { return }
        let frames = startFrames[peer] ?? spareFrames.popLast() ?? ShardFrames()
        startFrames[peer] = frames
        try frames.fill(from: coordinator.data, work: work, block: block)
        frames.lend()
        let message = Work(
            step: UInt64(work.globalStep), shards: frames.shards, weights: weightFrame,
            pixels: frames.pixelFrame, labels: frames.labelFrame)
        try membership.send(to: peer, .work(message))
    }

    /// Later sends in a step, after a failure, in fresh frames: the kept
    /// ones may still be on their way.
    private func send(_ blocks: [(PeerID, [Int])]) throws {
        guard let work = current else { return }
        for (peer, block) in blocks {
            let (pixels, labels, shards) = try ShardFrames.fresh(from: coordinator.data, work: work, block: block)
            let message = Work(step: UInt64(work.globalStep), shards: shards, weights: weightFrame, pixels: pixels, labels: labels)
            try membership.send(to: peer, .work(message))
        }
    }

    // MARK: - Members' messages

    func received(_ message: WireMessage, from member: Member) throws {
        guard case .gradient(let reply) = message else {
            return membership.reject(from: member.peer, because: "unexpected \(message.kind) from a worker")
        }
        guard let work = current, reply.step == UInt64(work.globalStep) else {
            return membership.reject(from: member.peer, because: "gradient for step \(reply.step), not the current step; dropped")
        }
        let partial: CentralReduction<PeerID>.Partial
        if let values = reply.valuesInPlace {
            partial = .inPlace(values)
        } else {
            partial = .written { target, overwrite in reply.unpack(into: target, overwrite: overwrite) }
        }
        switch reduction.accept(
            reply.shardIDs.lazy.map(Int.init), from: member.peer, samples: Int(reply.sampleCount),
            lossFixed: reply.lossSumFixedPoint, correct: Int(reply.correct), values: partial) {
        case .added: break
        case .adopted: adoptedFrame = reply.gradient
        case .refused(let reason):
            membership.reject(from: member.peer, because: "\(reason); dropped")
            return try membership.expel(member.peer, because: "sent a gradient that does not match its work")
        }
        coordinator.recordCompute(reply.computeNanoseconds)
    }

    func lost(_ member: Member) throws {
        if let frames = startFrames.removeValue(forKey: member.peer) {
            // Its answer will be refused, so the frames can carry a newcomer's work.
            frames.settle()
            spareFrames.append(frames)
        }
        if current != nil { try send(reduction.reassign(from: member.peer, to: membership.members.map(\.peer))) }
    }
}
