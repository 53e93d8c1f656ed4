import Collective
import Datasets
import Foundation
import MLP
import Wire

/// The coordinator's side of the central collective: a ROUTER socket that
/// welcomes workers, sends each its micro-shards with the current weights,
/// and adds their fixed-point gradient sums as they arrive.
///
/// Failures change who computes a shard, never the result: a worker silent
/// past the peer timeout loses its shards to the live workers within the
/// same step (or, if none is left, to the next one to join); a worker may
/// join at any time; a reply counts only for the current step and exactly
/// the shards its sender holds, so late and duplicate replies are dropped.
public final class WorkerPool: GradientSource {
    struct Member {
        let id: UInt32
        let peer: PeerID
        let name: String
        var lastHeard: UInt64
    }

    public let endpoint: String
    private let context: ZMQContext
    private let socket: ZMQSocket
    private let architecture: Architecture
    private let shardSize: Int
    private let data: LabeledImages
    private let settings: ClusterSettings
    private let log: (String) -> Void
    private let limits: DecodingLimits
    private var members: [Member] = []
    private var nextWorkerID: UInt32 = 1
    private var assignment = ShardAssignment<PeerID>()
    /// Shards whose reply was not finite, and who sent it: recomputed elsewhere once.
    private var suspect: [Int: PeerID] = [:]
    private var current: (work: StepWork, weights: ZMQMessage, sum: GradientSum)?
    private var stepComputeNanoseconds: UInt64 = 0
    private var computeNanoseconds: UInt64 = 0
    public private(set) var rejectedMessages = 0
    /// Polled while waiting, so a stop request is not held up by a stuck step.
    public var stopSignal: () -> Int32? = { nil }

    public init(
        listen: String, architecture: Architecture, shardSize: Int, data: LabeledImages,
        settings: ClusterSettings, log: @escaping (String) -> Void
    ) throws {
        self.architecture = architecture
        self.shardSize = shardSize
        self.data = data
        self.settings = settings
        self.log = log
        limits = Self.limits(architecture, shardSize: shardSize)
        // A context of its own: two I/O threads drain several workers' gradients
        // in parallel, and terminating it at shutdown waits for the last
        // messages (the workers' shutdown) to leave.
        context = try ZMQContext()
        try context.setIOThreads(2)
        socket = try ZMQSocket(context: context, kind: .router)
        try socket.setLinger(milliseconds: 1000)
        try socket.setRouterMandatory(true)
        try socket.setKernelBufferSizes(bytes: 4 << 20)
        // A stranger cannot make us buffer more than one well-formed message.
        try socket.setMaxMessageSize(limits.largestFrameBytes)
        do {
            endpoint = try socket.bind(listen)
        } catch let error as ZMQError {
            throw ClusterError.cannotListen(endpoint: listen, reason: error.message)
        }
        log("coordinator: listening on \(endpoint)")
    }

    deinit { socket.close() }

    public var workerCount: Int { members.count }

    static func limits(_ architecture: Architecture, shardSize: Int) -> DecodingLimits {
        DecodingLimits(parameterCount: architecture.parameterCount, inputSize: architecture.inputSize,
                       shardSize: shardSize, maxShards: FixedPoint.maxShardsPerSum)
    }

    /// Blocks until `count` workers have joined, the join timeout passes, or a stop signal.
    public func waitForWorkers(_ count: Int) throws {
        log("coordinator: waiting for \(count) worker\(count == 1 ? "" : "s")")
        try waitUntil(members.count >= count, seconds: settings.joinTimeoutSeconds, need: count)
    }

    public func compute(_ work: StepWork, weights: UnsafeBufferPointer<Float>, into sum: GradientSum) throws {
        if members.count < settings.minWorkers {
            log("coordinator: \(members.count) live worker\(members.count == 1 ? "" : "s"), fewer than --min-workers \(settings.minWorkers); waiting up to \(Int(settings.waitTimeoutSeconds)) s")
            try waitUntil(members.count >= settings.minWorkers, seconds: settings.waitTimeoutSeconds, need: settings.minWorkers)
        }
        let weightFrame = try ZMQMessage(copying: UnsafeRawBufferPointer(weights))
        current = (work, weightFrame, sum)
        defer { current = nil }
        stepComputeNanoseconds = 0
        suspect = [:]
        try send(assignment.start(shardCount: work.shards.count, workers: members.map(\.peer)))
        var orphanedSince: UInt64?
        while !assignment.isComplete {
            try receiveOne(timeoutMilliseconds: 50)
            for lost in dropSilentMembers() {
                try send(assignment.reassign(from: lost, to: members.map(\.peer)))
            }
            if !assignment.hasOrphans {
                orphanedSince = nil
            } else if !members.isEmpty {
                try send(assignment.adoptOrphans(by: members.map(\.peer)))
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

    /// Tells every worker to exit, and waits (up to the socket's linger) until
    /// those messages have left: a process that exits with messages still
    /// queued in ZeroMQ loses them, and its workers would wait out their timeout.
    public func shutdown(reason: String) {
        for member in members {
            try? socket.send(to: member.peer, WireMessage.shutdown(reason: reason).encode())
        }
        members.removeAll()
        socket.close()
        context.terminate()
    }

    private func waitUntil(_ condition: @autoclosure () -> Bool, seconds: Double, need: Int) throws {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while !condition() {
            guard monotonicNanoseconds() < deadline else {
                throw ClusterError.notEnoughWorkers(have: members.count, need: need, waitedSeconds: seconds)
            }
            try receiveOne(timeoutMilliseconds: 100)
            _ = dropSilentMembers()
        }
    }

    // MARK: - Sending work

    private func send(_ blocks: [(PeerID, [Int])]) throws {
        guard let (work, weights, _) = current else { return }
        for (peer, shards) in blocks {
            let counts = shards.map { work.shards[$0].count }
            let samples = counts.reduce(0, +)
            let pixels = try ZMQMessage(size: samples * data.inputSize)
            let labels = try ZMQMessage(size: samples)
            pixels.withUnsafeMutableBytes { pixelBytes in
                labels.withUnsafeMutableBytes { labelBytes in
                    var offset = 0
                    for shard in shards {
                        let positions = work.shards[shard]
                        PixelScaling.gather(
                            of: data, positions: positions, order: work.order,
                            intoPixels: UnsafeMutableBufferPointer(rebasing: pixelBytes.bindMemory(to: UInt8.self)[(offset * data.inputSize)...]),
                            intoLabels: UnsafeMutableBufferPointer(rebasing: labelBytes.bindMemory(to: UInt8.self)[offset...]))
                        offset += positions.count
                    }
                }
            }
            let message = Work(
                step: UInt64(work.globalStep), weightVersion: UInt64(work.globalStep),
                shards: zip(shards, counts).map { Work.Shard(shardID: UInt32($0.0), sampleCount: UInt32($0.1)) },
                weights: weights, pixels: pixels, labels: labels)
            do {
                try socket.send(to: peer, WireMessage.work(message).encode())
            } catch let error as ZMQError where error.isHostUnreachable || error.isWouldBlock {
                // The peer is gone or stuck: its shards return at the next timeout check.
                markSilent(peer)
            }
        }
    }

    // MARK: - Receiving

    private func receiveOne(timeoutMilliseconds: Int) throws {
        if let signal = stopSignal() { throw ClusterError.stopped(signal: signal) }
        let received: (peer: PeerID, frames: [ZMQMessage])?
        do {
            received = try socket.receiveRouted(timeoutMilliseconds: timeoutMilliseconds)
        } catch let error as ZMQError where error.isInterrupted {
            return
        } catch let error as ZMQError {
            // An oversized or malformed multipart message is a stranger's problem, not ours.
            return reject(from: nil, because: "\(error)")
        }
        guard let (peer, frames) = received else { return }
        let message: WireMessage
        do {
            message = try WireMessage.decode(frames, limits: limits)
        } catch let error as ProtocolError {
            reject(from: peer, because: "\(error)")
            try expel(peer, because: "sent a malformed message")
            if case .versionMismatch(let theirs, let ours) = error {
                let reason = "protocol version \(theirs) is not supported: this coordinator speaks version \(ours)"
                try? socket.send(to: peer, WireMessage.refuse(reason: reason).encode())
            }
            return
        }
        guard let index = members.firstIndex(where: { $0.peer == peer }) else {
            if case .hello(let hello) = message { return try welcome(peer, name: hello.workerName) }
            reject(from: peer, because: "\(message.kind) from a peer that is not a member")
            // A worker we declared dead may still be alive: tell it to join again.
            try? socket.send(to: peer, WireMessage.refuse(reason: "not a member of this run; say hello to join").encode())
            return
        }
        members[index].lastHeard = monotonicNanoseconds()
        switch message {
        case .gradient(let reply): try accept(reply, from: members[index])
        case .heartbeat: try? socket.send(to: peer, WireMessage.heartbeat.encode())
        default: reject(from: peer, because: "unexpected \(message.kind) from a worker")
        }
    }

    private func welcome(_ peer: PeerID, name: String) throws {
        let member = Member(id: nextWorkerID, peer: peer, name: name, lastHeard: monotonicNanoseconds())
        nextWorkerID += 1
        let welcome = Welcome(
            workerID: member.id, shardSize: UInt32(shardSize), heartbeatMilliseconds: UInt32(settings.heartbeatMilliseconds),
            activation: architecture.activation.rawValue, loss: architecture.loss.rawValue,
            layerSizes: architecture.layerSizes.map { UInt32($0) })
        try socket.send(to: peer, WireMessage.welcome(welcome).encode())
        members.append(member)
        log("coordinator: worker \(member.id) (\(name)) joined; \(members.count) live")
    }

    private func accept(_ reply: Gradient, from member: Member) throws {
        guard let (work, _, sum) = current, reply.step == UInt64(work.globalStep) else {
            return reject(from: member.peer, because: "gradient for step \(reply.step), not the current step; dropped")
        }
        let shards = reply.shardIDs.map(Int.init)
        let expectedSamples = shards.reduce(0) { $0 + ($1 < work.shards.count ? work.shards[$1].count : 0) }
        guard Int(reply.sampleCount) == expectedSamples else {
            reject(from: member.peer, because: "gradient claims \(reply.sampleCount) samples, its shards hold \(expectedSamples)")
            return try expel(member.peer, because: "sent a gradient that does not match its work")
        }
        guard shards.allSatisfy({ assignment.outstanding.contains($0) && assignment.owner[$0] == member.peer }) else {
            reject(from: member.peer, because: "gradient for shards \(shards) it does not hold; dropped")
            return try expel(member.peer, because: "sent a gradient that does not match its work")
        }
        if reply.lossSumFixedPoint == FixedPoint.nonFiniteLoss, try recheck(shards, from: member) { return }
        _ = assignment.complete(shards, by: member.peer)
        sum.addPartial(lossFixed: reply.lossSumFixedPoint, correct: Int(reply.correct),
                       samples: Int(reply.sampleCount), shards: shards.count) { target, overwrite in
            reply.unpack(into: target, overwrite: overwrite)
        }
        stepComputeNanoseconds = max(stepComputeNanoseconds, reply.computeNanoseconds)
    }

    /// A non-finite result is recomputed once by another worker: a faulty
    /// worker is then outvoted, while a run that really diverged gets the
    /// same answer twice and stops. Returns true if the shards were moved.
    private func recheck(_ shards: [Int], from member: Member) throws -> Bool {
        let others = members.filter { $0.peer != member.peer }.map(\.peer)
        let fresh = shards.filter { suspect[$0] == nil }
        guard !others.isEmpty, fresh.count == shards.count else { return false }
        reject(from: member.peer, because: "non-finite gradient for shards \(shards); recomputing them elsewhere")
        for shard in shards { suspect[shard] = member.peer }
        try send(assignment.move(shards, to: others))
        return true
    }

    private func reject(from peer: PeerID?, because reason: String) {
        rejectedMessages += 1
        let who = peer.map { peer in
            members.first { $0.peer == peer }.map { "worker \($0.id) (\($0.name))" } ?? "peer \(peer)"
        } ?? "an unknown peer"
        log("coordinator: rejected message #\(rejectedMessages) from \(who): \(reason)")
    }

    // MARK: - Membership

    /// A member that sends nonsense loses its shards to the others at once
    /// (rather than after the peer timeout) and is told to join again: a
    /// transient fault costs it one step, a broken worker keeps being refused.
    private func expel(_ peer: PeerID, because reason: String) throws {
        guard let index = members.firstIndex(where: { $0.peer == peer }) else { return }
        let member = members.remove(at: index)
        log("coordinator: worker \(member.id) (\(member.name)) \(reason); its shards go to the others")
        try? socket.send(to: peer, WireMessage.refuse(reason: "\(reason); say hello to join again").encode())
        if current != nil { try send(assignment.reassign(from: peer, to: members.map(\.peer))) }
    }

    private func markSilent(_ peer: PeerID) {
        if let index = members.firstIndex(where: { $0.peer == peer }) { members[index].lastHeard = 0 }
    }

    private func dropSilentMembers() -> [PeerID] {
        let now = monotonicNanoseconds()
        let limit = UInt64(settings.peerTimeoutMilliseconds) * 1_000_000
        let silent = members.filter { now > $0.lastHeard + limit }
        for member in silent {
            log("coordinator: worker \(member.id) (\(member.name)) silent for over \(settings.peerTimeoutMilliseconds) ms; its shards go to the others")
        }
        members.removeAll { now > $0.lastHeard + limit }
        return silent.map(\.peer)
    }
}
