import Collective
import Datasets
import Foundation
import MLP
import Wire

/// The coordinator's side of the central collective: a ROUTER socket that
/// welcomes workers, sends each its micro-shards with the current weights,
/// and adds their fixed-point gradient sums as they arrive.
///
/// A worker that goes silent past the peer timeout loses its shards to the
/// live workers within the same step; a worker may join at any time and gets
/// work from the next step on. Replies are accepted only for the current
/// step and only for exactly the shards a worker holds, so late and
/// duplicate replies are never counted twice.
public final class WorkerPool: GradientSource {
    struct Member {
        let id: UInt32
        let peer: PeerID
        let name: String
        var lastHeard: UInt64
    }

    public let endpoint: String
    private let socket: ZMQSocket
    private let architecture: Architecture
    private let shardSize: Int
    private let data: LabeledImages
    private let settings: ClusterSettings
    private let log: (String) -> Void
    private var members: [Member] = []
    private var nextWorkerID: UInt32 = 1
    private var assignment = ShardAssignment<PeerID>()
    private var stepComputeNanoseconds: UInt64 = 0
    private var computeNanoseconds: UInt64 = 0
    public private(set) var rejectedMessages = 0

    public init(
        listen: String, architecture: Architecture, shardSize: Int, data: LabeledImages,
        settings: ClusterSettings, log: @escaping (String) -> Void
    ) throws {
        self.architecture = architecture
        self.shardSize = shardSize
        self.data = data
        self.settings = settings
        self.log = log
        socket = try ZMQSocket(context: .shared, kind: .router)
        try socket.setLinger(milliseconds: 1000)
        try socket.setRouterMandatory(true)
        // A stranger cannot make us buffer more than one full gradient frame.
        try socket.setMaxMessageSize(Self.limits(architecture, shardSize: shardSize).largestFrameBytes)
        do {
            endpoint = try socket.bind(listen)
        } catch let error as ZMQError {
            throw ClusterError.cannotListen(endpoint: listen, reason: error.message)
        }
    }

    deinit { socket.close() }

    public var workerCount: Int { members.count }

    private var limits: DecodingLimits { Self.limits(architecture, shardSize: shardSize) }

    static func limits(_ architecture: Architecture, shardSize: Int) -> DecodingLimits {
        DecodingLimits(parameterCount: architecture.parameterCount, inputSize: architecture.inputSize,
                       shardSize: shardSize, maxShards: FixedPoint.maxShardsPerSum)
    }


    /// Blocks until `count` workers have joined, the join timeout passes, or a stop signal.
    public func waitForWorkers(_ count: Int, stopSignal: () -> Int32?) throws {
        let deadline = monotonicNanoseconds() + UInt64(settings.joinTimeoutSeconds * 1e9)
        log("coordinator: listening on \(endpoint), waiting for \(count) worker\(count == 1 ? "" : "s")")
        while members.count < count {
            if stopSignal() != nil { return }
            guard monotonicNanoseconds() < deadline else {
                throw ClusterError.notEnoughWorkers(have: members.count, need: count, waitedSeconds: settings.joinTimeoutSeconds)
            }
            try receiveOne(timeoutMilliseconds: 100, work: nil, sum: nil)
        }
    }

    public func compute(_ work: StepWork, weights: UnsafeBufferPointer<Float>, into sum: GradientSum) throws {
        let weightFrame = try ZMQMessage(copying: UnsafeRawBufferPointer(weights))
        stepComputeNanoseconds = 0
        try send(assignment.start(shardCount: work.shards.count, workers: members.map(\.peer)),
                 work: work, weights: weightFrame)
        while !assignment.isComplete {
            try receiveOne(timeoutMilliseconds: 50, work: work, sum: sum)
            for lost in try dropSilentMembers() {
                let live = members.map(\.peer)
                guard !live.isEmpty else { throw ClusterError.noWorkersLeft(step: work.globalStep) }
                try send(assignment.reassign(from: lost, to: live), work: work, weights: weightFrame)
            }
        }
        computeNanoseconds += stepComputeNanoseconds
    }

    public func takeComputeNanoseconds() -> UInt64 {
        defer { computeNanoseconds = 0 }
        return computeNanoseconds
    }

    /// Tells every worker to exit.
    public func shutdown(reason: String) {
        for member in members {
            try? socket.send(to: member.peer, WireMessage.shutdown(reason: reason).encode())
        }
        members.removeAll()
    }

    // MARK: - Sending work

    private func send(_ blocks: [(PeerID, [Int])], work: StepWork, weights: ZMQMessage) throws {
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
            } catch let error as ZMQError where error.isHostUnreachable {
                // The peer vanished between steps; its shards return on the next timeout check.
                markSilent(peer)
            }
        }
    }

    // MARK: - Receiving

    private func receiveOne(timeoutMilliseconds: Int, work: StepWork?, sum: GradientSum?) throws {
        let received: (peer: PeerID, frames: [ZMQMessage])?
        do {
            received = try socket.receiveRouted(timeoutMilliseconds: timeoutMilliseconds)
        } catch let error as ZMQError where error.isInterrupted {
            return
        }
        guard let (peer, frames) = received else { return }
        let message: WireMessage
        do {
            message = try WireMessage.decode(frames, limits: limits)
        } catch let error as ProtocolError {
            reject(from: peer, because: "\(error)")
            if case .versionMismatch(let theirs, let ours) = error {
                let reason = "protocol version \(theirs) is not supported: this coordinator speaks version \(ours)"
                try? socket.send(to: peer, WireMessage.refuse(reason: reason).encode())
            }
            return
        }
        if let index = members.firstIndex(where: { $0.peer == peer }) {
            members[index].lastHeard = monotonicNanoseconds()
            switch message {
            case .gradient(let reply): accept(reply, from: members[index], work: work, sum: sum)
            case .heartbeat: try? socket.send(to: peer, WireMessage.heartbeat.encode())
            case .hello: reject(from: peer, because: "hello from a worker that already joined")
            default: reject(from: peer, because: "unexpected \(message.kind) from a worker")
            }
        } else if case .hello(let hello) = message {
            try welcome(peer, name: hello.workerName)
        } else {
            reject(from: peer, because: "\(message.kind) from a peer that never said hello")
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

    private func accept(_ reply: Gradient, from member: Member, work: StepWork?, sum: GradientSum?) {
        guard let work, let sum, reply.step == UInt64(work.globalStep) else {
            return reject(from: member.peer, because: "gradient for step \(reply.step), not the current step; dropped")
        }
        let shards = reply.shardIDs.map(Int.init)
        let expectedSamples = shards.reduce(0) { $0 + (($1 < work.shards.count) ? work.shards[$1].count : 0) }
        guard Int(reply.sampleCount) == expectedSamples, Int(reply.correct) <= expectedSamples else {
            return reject(from: member.peer, because: "gradient claims \(reply.sampleCount) samples, its shards hold \(expectedSamples)")
        }
        guard assignment.complete(shards, by: member.peer) else {
            return reject(from: member.peer, because: "gradient for shards \(shards) it does not hold; dropped")
        }
        reply.withGradient { values in
            sum.addPartial(values, lossFixed: reply.lossSumFixedPoint, correct: Int(reply.correct),
                           samples: Int(reply.sampleCount), shards: shards.count)
        }
        stepComputeNanoseconds = max(stepComputeNanoseconds, reply.computeNanoseconds)
    }

    private func reject(from peer: PeerID, because reason: String) {
        rejectedMessages += 1
        let who = members.first { $0.peer == peer }.map { "worker \($0.id) (\($0.name))" } ?? "peer \(peer)"
        log("coordinator: rejected message #\(rejectedMessages) from \(who): \(reason)")
    }

    // MARK: - Membership

    private func markSilent(_ peer: PeerID) {
        if let index = members.firstIndex(where: { $0.peer == peer }) { members[index].lastHeard = 0 }
    }

    private func dropSilentMembers() throws -> [PeerID] {
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

public enum ClusterError: Error, CustomStringConvertible {
    case cannotListen(endpoint: String, reason: String)
    case notEnoughWorkers(have: Int, need: Int, waitedSeconds: Double)
    case noWorkersLeft(step: Int)
    case incompatibleCoordinator(String)

    public var description: String {
        switch self {
        case .cannotListen(let endpoint, let reason):
            return "--listen \(endpoint): cannot listen there: \(reason)"
        case .notEnoughWorkers(let have, let need, let waited):
            return "only \(have) of \(need) workers joined within \(Int(waited)) s"
        case .noWorkersLeft(let step):
            return "every worker was lost during step \(step)"
        case .incompatibleCoordinator(let why):
            return "cannot work for this coordinator: \(why)"
        }
    }
}
