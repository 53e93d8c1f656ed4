import Collective
import Datasets
import Foundation
import MLP
import Wire

/// The coordinator's side of the central collective: sends each member its
/// micro-shards with the current weights, and adds their fixed-point
/// gradient sums as they arrive.
///
/// Failures change who computes a shard, never the result: a worker lost
/// (silent past the peer timeout, or expelled) hands its shards to the live
/// workers within the same step (or, if none is left, to the next one to
/// join); a worker may join at any time; a reply counts only for the current
/// step and exactly the shards its sender holds, so late and duplicate
/// replies are dropped.
public final class WorkerPool: GradientSource {
    private let membership: Membership
    private let data: LabeledImages
    private let settings: ClusterSettings
    private var assignment = ShardAssignment<PeerID>()
    /// Shards whose reply was not finite, and who sent it: recomputed elsewhere once.
    private var suspect: [Int: PeerID] = [:]
    private var current: (work: StepWork, weights: ZMQMessage, sum: GradientSum)?
    private var stepComputeNanoseconds: UInt64 = 0
    private var computeNanoseconds: UInt64 = 0
    private let weightFrame = ZMQMessage()
    /// The first raw gradient frame of a step, kept as the sum's storage
    /// (no 4 MB copy) until the step is over.
    private var adoptedFrame: ZMQMessage?
    /// Each member's frames for its first work of a step.
    private var startFrames: [PeerID: ShardFrames] = [:]

    public init(
        listen: String, architecture: Architecture, shardSize: Int, data: LabeledImages,
        settings: ClusterSettings, log: @escaping (String) -> Void
    ) throws {
        self.data = data
        self.settings = settings
        membership = try Membership(
            listen: listen, architecture: architecture, shardSize: shardSize, collective: .central,
            settings: settings, log: log)
        membership.onMessage = { [unowned self] message, member in
            guard case .gradient(let reply) = message else {
                return membership.reject(from: member.peer, because: "unexpected \(message.kind) from a worker")
            }
            try accept(reply, from: member)
        }
        membership.onLoss = { [unowned self] member in
            startFrames[member.peer] = nil
            if current != nil { try send(assignment.reassign(from: member.peer, to: membership.peers)) }
        }
    }

    public var endpoint: String { membership.endpoint }
    public var workerCount: Int { membership.members.count }
    public var rejectedMessages: Int { membership.rejectedMessages }

    /// Polled while waiting, so a stop request is not held up by a stuck step.
    public var stopSignal: () -> Int32? {
        get { membership.stopSignal }
        set { membership.stopSignal = newValue }
    }

    /// Blocks until `count` workers have joined, the join timeout passes, or a stop signal.
    public func waitForWorkers(_ count: Int) throws {
        membership.log("coordinator: waiting for \(count) worker\(count == 1 ? "" : "s")")
        try membership.waitUntil({ workerCount >= count }, seconds: settings.joinTimeoutSeconds, need: count)
    }

    public func compute(_ work: StepWork, weights: UnsafeBufferPointer<Float>, into sum: GradientSum) throws {
        if workerCount < settings.minWorkers {
            membership.log("coordinator: \(workerCount) live worker\(workerCount == 1 ? "" : "s"), fewer than --min-workers \(settings.minWorkers); waiting up to \(Int(settings.waitTimeoutSeconds)) s")
            try membership.waitUntil({ workerCount >= settings.minWorkers }, seconds: settings.waitTimeoutSeconds, need: settings.minWorkers)
        }
        // Sent without a copy: the weights change only after every member
        // that was sent them has answered (or was dropped, and then its late
        // answer is refused), so libzmq is done with these bytes by then.
        weightFrame.refer(to: UnsafeRawBufferPointer(weights))
        adoptedFrame = nil
        current = (work, weightFrame, sum)
        defer { current = nil }
        stepComputeNanoseconds = 0
        suspect = [:]
        try assignment.startBlocks(
            shardCount: work.shards.count, workerCount: workerCount, worker: { membership.members[$0].peer }
        ) { peer, block in
            try sendFirst(block, to: peer)
        }
        var orphanedSince: UInt64?
        while !assignment.isComplete {
            try membership.receiveOne(timeoutMilliseconds: 50)
            try membership.dropSilentMembers()
            if !assignment.hasOrphans {
                orphanedSince = nil
            } else if workerCount > 0 {
                try send(assignment.adoptOrphans(by: membership.peers))
            } else {
                let since = orphanedSince ?? monotonicNanoseconds()
                orphanedSince = since
                if monotonicNanoseconds() - since > UInt64(settings.waitTimeoutSeconds * 1e9) {
                    throw ClusterError.notEnoughWorkers(have: 0, need: 1, waitedSeconds: settings.waitTimeoutSeconds)
                }
            }
        }
        computeNanoseconds += stepComputeNanoseconds
    }

    public func takeComputeNanoseconds() -> UInt64 {
        defer { computeNanoseconds = 0 }
        return computeNanoseconds
    }

    public func shutdown(reason: String) { membership.shutdown(reason: reason) }

    // MARK: - Sending work

    /// A step's first work for `peer`, in that member's kept frames: it has
    /// answered the last work they carried before the step could end.
    /// (Later sends in a step, after a failure, use fresh frames: the kept
    /// ones may still be on their way.)
    private func sendFirst(_ block: Range<Int>, to peer: PeerID) throws {
        guard let (work, weights, _) = current else { return }
        let frames: ShardFrames
        if let kept = startFrames[peer] {
            frames = kept
        } else {
            frames = ShardFrames()
            startFrames[peer] = frames
        }
        frames.fill(from: data, work: work, block: block)
        let message = Work(
            step: UInt64(work.globalStep), weightVersion: UInt64(work.globalStep), shards: frames.shards,
            weights: weights, pixels: frames.pixelFrame, labels: frames.labelFrame)
        try membership.send(to: peer, .work(message))
    }

    private func send(_ blocks: [(PeerID, [Int])]) throws {
        guard let (work, weights, _) = current else { return }
        for (peer, shards) in blocks {
            let batch = try ShardBatch(of: data, shards: shards.map { work.shards[$0] }, order: work.order)
            let message = Work(
                step: UInt64(work.globalStep), weightVersion: UInt64(work.globalStep),
                shards: zip(shards, batch.sampleCounts).map { Work.Shard(shardID: UInt32($0.0), sampleCount: UInt32($0.1)) },
                weights: weights, pixels: batch.pixels, labels: batch.labels)
            try membership.send(to: peer, WireMessage.work(message))
        }
    }

    // MARK: - Receiving

    private func accept(_ reply: Gradient, from member: Membership.Member) throws {
        guard let (work, _, sum) = current, reply.step == UInt64(work.globalStep) else {
            return membership.reject(from: member.peer, because: "gradient for step \(reply.step), not the current step; dropped")
        }
        let shards = reply.shardIDs.lazy.map(Int.init)
        let expectedSamples = shards.reduce(0) { $0 + ($1 < work.shards.count ? work.shards[$1].count : 0) }
        guard Int(reply.sampleCount) == expectedSamples else {
            membership.reject(from: member.peer, because: "gradient claims \(reply.sampleCount) samples, its shards hold \(expectedSamples)")
            return try membership.expel(member.peer, because: "sent a gradient that does not match its work")
        }
        guard shards.allSatisfy({ assignment.holds($0, member.peer) }) else {
            membership.reject(from: member.peer, because: "gradient for shards \(Array(shards)) it does not hold; dropped")
            return try membership.expel(member.peer, because: "sent a gradient that does not match its work")
        }
        if reply.lossSumFixedPoint == FixedPoint.nonFiniteLoss, try recheck(Array(shards), from: member) { return }
        _ = assignment.complete(shards, by: member.peer)
        if let values = reply.valuesInPlace, values.count == sum.values.count {
            if sum.addPartial(adopting: values, lossFixed: reply.lossSumFixedPoint, correct: Int(reply.correct),
                              samples: Int(reply.sampleCount), shards: shards.count) {
                adoptedFrame = reply.gradient
            }
        } else {
            sum.addPartial(lossFixed: reply.lossSumFixedPoint, correct: Int(reply.correct),
                           samples: Int(reply.sampleCount), shards: shards.count) { target, overwrite in
                reply.unpack(into: target, overwrite: overwrite)
            }
        }
        stepComputeNanoseconds = max(stepComputeNanoseconds, reply.computeNanoseconds)
    }

    /// A non-finite result is recomputed once by another worker: a faulty
    /// worker is then outvoted, while a run that really diverged gets the
    /// same answer twice and stops. Returns true if the shards were moved.
    private func recheck(_ shards: [Int], from member: Membership.Member) throws -> Bool {
        let others = membership.peers.filter { $0 != member.peer }
        let fresh = shards.filter { suspect[$0] == nil }
        guard !others.isEmpty, fresh.count == shards.count else { return false }
        membership.reject(from: member.peer, because: "non-finite gradient for shards \(shards); recomputing them elsewhere")
        for shard in shards { suspect[shard] = member.peer }
        try send(assignment.move(shards, to: others))
        return true
    }
}
