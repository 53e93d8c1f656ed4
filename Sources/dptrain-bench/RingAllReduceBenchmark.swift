import Cluster
import Collective
import Clock
import Foundation
import MLP
import Training
import Wire

/// allreduce_ms: one ring all-reduce of the whole gradient between two
/// workers, through dptrain's own `RingWorker` (RingAllReduce over its ZeroMQ link), without the rest of the
/// product. Two peer processes (`ring-peer`) each hold a RingWorker for
/// 784-512-256-10 bound to an ipc:// socket; the bench process plays the
/// coordinator's orchestrating part, a ROUTER that tells each peer the
/// other's endpoint, so they form a ring of 2 (ranks 0 and 1, each the
/// other's right neighbour), momentum 0.9, learning rate 0.05. Each peer's
/// local sum holds two real 32-sample micro-shard gradients (random pixels
/// and labels at the seeded initial weights): a global batch of 128.
///
/// Each timing runs from the bench process sending the start signal to the
/// later of the two peers returning from `allReduce` (each stamps
/// CLOCK_MONOTONIC): the start signal's trip, then on both members at once
/// the reduce-scatter (half the sum, 4·P bytes, copied into a fresh frame,
/// sent raw over ipc:// and added onto the neighbour's half), averaging and
/// SGD on the owned half, and the all-gather (that half's new weights,
/// 2·P bytes, copied, sent and copied into place). Each member thus sends
/// and receives 6·P bytes, both directions at once, where zmq_transfer_ms
/// sends 8·P bytes one way. Not included: computing the gradients, the
/// RingWork and RingDone messages with which dptrain's coordinator frames a
/// step, and the report's trip back to the bench process.
///
/// `allReduce` adds the neighbour's chunk onto the local sum in place, so
/// each peer restores its sum before every round (untimed). Weights and
/// momentum carry on from round to round, as in training with a constant
/// gradient; after every round the peers report a fingerprint of their
/// weights, which must be finite and the same on both.
enum RingAllReduceBenchmark {
    static let members = 2
    static let warmups = 5
    static let rounds = 100
    static let shardsPerMember = 2
    static let learningRate: Float = 0.05
    static let momentum: Float = 0.9
    static let peerTimeoutMilliseconds = 30_000

    /// The median timing in milliseconds.
    static func run() throws -> Double {
        let socket = try ZMQSocket(context: .shared(), kind: .router)
        try socket.setRouterMandatory(true)
        let folder = try SocketFolder()
        let endpoint = try socket.bind("ipc://\(folder.path)/orchestrator")
        let peers = try (0..<members).map {
            try PeerProcess(arguments: ["ring-peer", endpoint, String($0), folder.path])
        }
        // The folder must outlive the peers: ARC could otherwise remove it right after the bind.
        defer { peers.forEach { $0.stop() }; withExtendedLifetime(folder) {} }

        let ring = try formRing(on: socket)
        var timings: [Double] = []
        var start: UInt64 = 0
        for round in 0...(warmups + rounds) {
            // Round 0's reports only say the peers are ready.
            let reports = try ring.map { _ in try receiveReport(on: socket) }
            if round > 0, reports[0].fingerprint != reports[1].fingerprint {
                throw BenchError("ring all-reduce: the members' weights differ after round \(round)")
            }
            if round > warmups { timings.append(milliseconds(reports.map(\.finished).max()! - start)) }
            if round == warmups + rounds { break }
            start = monotonicNanoseconds()
            for peer in ring { try socket.send(to: peer, [ZMQMessage(copying: [1])]) }
        }
        for peer in ring { try socket.send(to: peer, [ZMQMessage()]) }
        let result = median(timings)
        progress(String(format: "all-reduce of %d parameters over %d workers (ring): %.3f ms (median)",
                        benchArchitecture.parameterCount, members, result))
        return result
    }

    /// The handshake: each peer says its rank and ring endpoint and is told
    /// its right neighbour's. Returns the peers by rank.
    private static func formRing(on socket: ZMQSocket) throws -> [PeerID] {
        var joined: [Int: (peer: PeerID, endpoint: String)] = [:]
        while joined.count < members {
            guard let (peer, frames) = try socket.receiveRouted(timeoutMilliseconds: peerTimeoutMilliseconds) else {
                throw BenchError("ring all-reduce: only \(joined.count) of \(members) peers joined within \(peerTimeoutMilliseconds) ms")
            }
            guard frames.count == 2, frames[0].count == 1, Int(frames[0].bytes[0]) < members else {
                throw BenchError("ring all-reduce: a malformed hello from \(peer)")
            }
            joined[Int(frames[0].bytes[0])] = (peer, String(decoding: frames[1].bytes, as: UTF8.self))
        }
        let ring = (0..<members).map { joined[$0]! }
        for (rank, member) in ring.enumerated() {
            try socket.send(to: member.peer, [ZMQMessage(copying: Array(ring[(rank + 1) % members].endpoint.utf8))])
        }
        return ring.map(\.peer)
    }

    /// A peer's report: when its last `allReduce` returned and a fingerprint
    /// of its weights, 16 bytes; any other frame is the peer's error.
    private static func receiveReport(on socket: ZMQSocket) throws -> (finished: UInt64, fingerprint: UInt64) {
        guard let (peer, frames) = try socket.receiveRouted(timeoutMilliseconds: peerTimeoutMilliseconds) else {
            throw BenchError("ring all-reduce: the peers were silent for \(peerTimeoutMilliseconds) ms")
        }
        guard frames.count == 1, frames[0].count == 16 else {
            throw BenchError("ring all-reduce: peer \(peer): " + String(decoding: frames[0].bytes, as: UTF8.self))
        }
        return frames[0].withUnsafeElements(of: UInt64.self) { ($0[0], $0[1]) }
    }

    /// `dptrain-bench ring-peer ENDPOINT RANK FOLDER`: one ring member,
    /// listening in FOLDER. An error is reported to the bench process
    /// before the peer exits with it.
    static func runPeer(endpoint: String, rank: Int, folder: String) throws {
        let socket = try ZMQSocket(context: .shared(), kind: .dealer)
        try socket.connect(endpoint)
        do {
            try serve(socket, endpoint: endpoint, rank: rank, folder: folder)
        } catch {
            try? socket.send([ZMQMessage(copying: Array("\(error)".utf8))])
            throw error
        }
    }

    private static func serve(_ socket: ZMQSocket, endpoint: String, rank: Int, folder: String) throws {
        let computer = ShardGradientComputer(architecture: benchArchitecture, shardSize: benchShardSize)
        let member = try RingWorker(
            computer: computer, limits: benchLimits, listen: "ipc://\(folder)/ring-\(rank).sock", coordinator: socket,
            timing: ClusterSettings(), output: Output(people: { _ in }, log: { progress("ring-peer \(rank): \($0)") }))
        try socket.send([ZMQMessage(copying: [UInt8(rank)]), ZMQMessage(copying: Array(member.endpoint.utf8))])
        guard let reply = try socket.receive(timeoutMilliseconds: peerTimeoutMilliseconds) else {
            throw BenchError("ring-peer: no right neighbour from \(endpoint) within \(peerTimeoutMilliseconds) ms")
        }
        try member.setUp(setup(rank: rank, rightNeighbour: String(decoding: reply[0].bytes, as: UTF8.self)))
        try fillSum(member, computer: computer, seed: UInt64(10 + rank))
        let filled = Array(member.localSum.values)

        var report: (finished: UInt64, fingerprint: UInt64) = (0, 0)
        for step in UInt64(1)... {
            _ = member.localSum.values.update(fromContentsOf: filled)
            let frame = try ZMQMessage(size: 16)
            frame.withUnsafeMutableElements(of: UInt64.self) { $0[0] = report.finished; $0[1] = report.fingerprint }
            try socket.send([frame])
            guard let start = try socket.receive(timeoutMilliseconds: peerTimeoutMilliseconds) else {
                throw BenchError("ring-peer: no start signal from \(endpoint) within \(peerTimeoutMilliseconds) ms")
            }
            if start[0].count == 0 { return }
            // Nothing arrives on `socket` while the members exchange, so it never interrupts.
            let outcome = try member.allReduce(
                step: step, batchSamples: members * shardsPerMember * benchShardSize, learningRate: learningRate)
            let finished = monotonicNanoseconds()
            guard case .updated = outcome else {
                throw BenchError("ring-peer \(rank): step \(step) ended with \(outcome), not updated weights")
            }
            guard let fingerprint = fingerprint(member.currentWeights) else {
                throw BenchError("ring-peer \(rank): weights not finite after step \(step)")
            }
            report = (finished, fingerprint)
        }
    }

    /// Rank `rank` of a ring of 2 at the seeded initial weights and zero momentum.
    private static func setup(rank: Int, rightNeighbour: String) throws -> RingSetup {
        let owned = RingPartition(parameterCount: benchArchitecture.parameterCount, size: members).owned(rank: rank)
        let weights = ParameterBuffer.initialised(benchArchitecture, seed: 1)
        return RingSetup(
            generation: 1, step: 0, rank: UInt32(rank), size: UInt32(members), rightNeighbour: rightNeighbour,
            momentum: momentum, nesterov: false, weightDecay: 0,
            ownedStart: UInt64(owned.lowerBound), ownedCount: UInt64(owned.count),
            weights: try ZMQMessage(copying: UnsafeRawBufferPointer(weights.readOnly)),
            velocity: try ZMQMessage(copying: [UInt8](repeating: 0, count: 4 * owned.count)))
    }

    /// The member's local sum: its micro-shards' gradients at its current
    /// weights, on random pixel-like images with random labels.
    private static func fillSum(_ member: RingWorker, computer: ShardGradientComputer, seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        member.localSum.reset()
        for _ in 0..<shardsPerMember {
            let pixels = (0..<benchShardSize * benchArchitecture.inputSize).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let labels = (0..<benchShardSize).map { _ in UInt8(generator.next() % 10) }
            pixels.withUnsafeBufferPointer { pixels in
                labels.withUnsafeBufferPointer { labels in
                    computer.addShards(weights: member.currentWeights, pixels: pixels, labels: labels,
                                       step: 0, shards: [(id: 0, samples: benchShardSize)], into: member.localSum)
                }
            }
        }
        guard member.localSum.finite else { throw BenchError("ring-peer: the local gradient sum is not finite") }
    }

    /// FNV-1a over the weights' bit patterns; nil if any is not finite.
    private static func fingerprint(_ weights: UnsafeBufferPointer<Float>) -> UInt64? {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for weight in weights {
            guard weight.isFinite else { return nil }
            hash = (hash ^ UInt64(weight.bitPattern)) &* 0x100_0000_01B3
        }
        return hash
    }
}
