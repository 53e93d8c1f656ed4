import Cluster
import Collective
import Clock
import Foundation
import Wire

/// allreduce_ms_central: one reduction of the whole fixed-point gradient
/// over two workers through the central collective, measured without
/// touching the product. The bench process plays the coordinator's part of CentralCoordinator
/// (a ROUTER with its socket options and two I/O threads, decoding with
/// WireMessage.decode, adding with GradientSum.addPartial); two peer
/// processes play workers, each holding an encoded Gradient message of P
/// Int64s (two micro-shards each).
///
/// Each timing runs from the start signal, sent once both workers report
/// their gradient ready, to the coordinator having added both into one sum:
/// the start signal's trip, both 8·P-byte transfers competing for the
/// cores, decoding and the two additions. Not included: computing the
/// gradients, and the broadcast of the new weights that the next step's
/// work message carries.
enum CentralAllReduceBenchmark {
    static let workers = 2
    static let warmups = 5
    static let rounds = 100
    static let shardsPerWorker = 2
    static let peerTimeoutMilliseconds = 30_000

    /// The median timing in milliseconds.
    static func run() throws -> Double {
        try ZMQContext.shared().setIOThreads(2)
        let socket = try ZMQSocket(context: .shared(), kind: .router)
        try socket.setRouterMandatory(true)
        try socket.setKernelBufferSizes(bytes: 4 << 20)
        try socket.setMaxMessageSize(benchLimits.largestFrameBytes)
        let folder = try SocketFolder()
        let endpoint = try socket.bind("ipc://\(folder.path)/allreduce")
        let peers = try (0..<workers).map { try PeerProcess(arguments: ["central-peer", endpoint, String($0)]) }
        // The folder must outlive the peers: ARC could otherwise remove it right after the bind.
        defer { peers.forEach { $0.stop() }; withExtendedLifetime(folder) {} }

        let sum = GradientSum(parameterCount: benchArchitecture.parameterCount)
        var members = Set<PeerID>()
        var ready = 0
        var timings: [Double] = []
        for round in 0..<(warmups + rounds) {
            while ready < workers { try receive(on: socket, ready: &ready, members: &members, into: nil) }
            ready = 0
            sum.reset()
            let start = monotonicNanoseconds()
            for member in members { try socket.send(to: member, [ZMQMessage(copying: [1])]) }
            while sum.shards < workers * shardsPerWorker {
                try receive(on: socket, ready: &ready, members: &members, into: sum)
            }
            if round >= warmups { timings.append(milliseconds(monotonicNanoseconds() - start)) }
        }
        for member in members { try socket.send(to: member, [ZMQMessage()]) }
        let result = median(timings)
        progress(String(format: "all-reduce of %d Int64s over %d workers (central): %.3f ms (median)",
                        benchArchitecture.parameterCount, workers, result))
        return result
    }

    /// One message: a worker's one-frame "ready", or its gradient, which is added to `sum`.
    private static func receive(
        on socket: ZMQSocket, ready: inout Int, members: inout Set<PeerID>, into sum: GradientSum?
    ) throws {
        guard let (peer, frames) = try socket.receiveRouted(timeoutMilliseconds: peerTimeoutMilliseconds) else {
            throw BenchError("central all-reduce: the workers were silent for \(peerTimeoutMilliseconds) ms")
        }
        members.insert(peer)
        if frames.count == 1 {
            ready += 1
            return
        }
        guard let sum, case .gradient(let gradient) = try WireMessage.decode(frames, limits: benchLimits) else {
            throw BenchError("central all-reduce: unexpected message from \(peer)")
        }
        // The coordinator's own path: the frame is read once, straight into the sum.
        sum.addPartial(lossFixed: gradient.lossSumFixedPoint, correct: Int(gradient.correct),
                       samples: Int(gradient.sampleCount), shards: gradient.shardIDs.count) { target, overwrite in
            gradient.unpack(into: target, overwrite: overwrite)
        }
    }

    /// `dptrain-bench central-peer ENDPOINT INDEX`: one worker. Its
    /// gradient is built once (computing it is not what is measured); each
    /// round encodes a fresh header around it before reporting ready.
    static func runPeer(endpoint: String, index: Int) throws {
        let socket = try ZMQSocket(context: .shared(), kind: .dealer)
        try socket.setKernelBufferSizes(bytes: 4 << 20)
        try socket.connect(endpoint)
        let frame = try ZMQMessage(size: 8 * benchArchitecture.parameterCount)
        frame.withUnsafeMutableElements(of: Int64.self) { values in
            for i in values.indices { values[i] = Int64(truncatingIfNeeded: (i &+ index) &* 2_654_435_761) >> 20 }
        }
        let shardIDs = (0..<shardsPerWorker).map { UInt32(index * shardsPerWorker + $0) }
        for step in UInt64(0)... {
            let gradient = Gradient(
                step: step, lossSumFixedPoint: FixedPoint.encode(loss: 40),
                correct: 30, sampleCount: UInt32(shardsPerWorker * benchShardSize), computeNanoseconds: 0,
                shardIDs: ShardIDs(shardIDs), gradient: frame)
            let message = try WireMessage.gradient(gradient).encode()
            try socket.send([ZMQMessage(copying: [0])])
            guard let start = try socket.receive(timeoutMilliseconds: peerTimeoutMilliseconds) else {
                throw BenchError("central-peer: no start signal from \(endpoint) within \(peerTimeoutMilliseconds) ms")
            }
            if start[0].count == 0 { return }
            try socket.send(message)
        }
    }
}
