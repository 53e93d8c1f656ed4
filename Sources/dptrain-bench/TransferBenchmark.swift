import Cluster
import Clock
import Foundation
import Wire

/// zmq_transfer_ms (ipc://) and zmq_transfer_ms_tcp (tcp://127.0.0.1): how
/// long one message of 8·P bytes, the size of one fixed-point gradient,
/// takes from one process to another through the project's ZeroMQ wrapper
/// with nothing else going on. It is the floor under any collective that
/// moves whole gradients.
///
/// One message in flight at a time, as in a training step: the receiver
/// asks, the sender fills a fresh frame (as a worker fills its gradient),
/// stamps the monotonic clock into its first 8 bytes and sends it; each
/// timing runs from that stamp to the receiver holding the whole message.
/// Both sockets get the kernel buffer sizes dptrain's sockets use.
enum TransferBenchmark {
    static let warmups = 10
    static let messages = 100
    static let kernelBufferBytes = 4 << 20
    static let peerTimeoutMilliseconds = 30_000

    static func run() throws {
        let bytes = 8 * benchArchitecture.parameterCount
        let folder = try SocketFolder()
        let ipc = try medianMilliseconds(endpoint: "ipc://\(folder.path)/transfer", bytes: bytes)
        progress(String(format: "ZeroMQ ipc://, %d bytes: %.3f ms per message (median)", bytes, ipc))
        let tcp = try medianMilliseconds(endpoint: "tcp://127.0.0.1:*", bytes: bytes)
        progress(String(format: "ZeroMQ tcp://127.0.0.1, %d bytes: %.3f ms per message (median)", bytes, tcp))
        print(String(format: "{\"zmq_transfer_ms\": %.4f, \"zmq_transfer_ms_tcp\": %.4f, \"zmq_transfer_bytes\": %d}",
                     ipc, tcp, bytes))
    }

    /// The receiving end, in this process; the sender is a `transfer-peer`.
    static func medianMilliseconds(endpoint: String, bytes: Int) throws -> Double {
        let socket = try ZMQSocket(context: .shared(), kind: .router)
        try socket.setKernelBufferSizes(bytes: kernelBufferBytes)
        let bound = try socket.bind(endpoint)
        let peer = try PeerProcess(arguments: ["transfer-peer", bound, String(bytes)])
        defer { peer.stop() }
        guard let (sender, _) = try socket.receiveRouted(timeoutMilliseconds: peerTimeoutMilliseconds) else {
            throw BenchError("transfer: the peer process did not connect to \(bound)")
        }
        var timings: [Double] = []
        for message in 0..<(warmups + messages) {
            try socket.send(to: sender, [ZMQMessage(copying: [1])])
            guard let (_, frames) = try socket.receiveRouted(timeoutMilliseconds: peerTimeoutMilliseconds) else {
                throw BenchError("transfer: no message \(message) from the peer within \(peerTimeoutMilliseconds) ms")
            }
            let arrived = monotonicNanoseconds()
            guard frames.count == 1, frames[0].count == bytes else {
                throw BenchError("transfer: the peer sent \(frames.map(\.count)) bytes, not one frame of \(bytes)")
            }
            let stamp = frames[0].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            if message >= warmups { timings.append(milliseconds(arrived - stamp)) }
        }
        // An empty request tells the peer to exit.
        try socket.send(to: sender, [ZMQMessage()])
        return median(timings)
    }

    /// `dptrain-bench transfer-peer ENDPOINT BYTES`: the sending end.
    static func runPeer(endpoint: String, bytes: Int) throws {
        let socket = try ZMQSocket(context: .shared(), kind: .dealer)
        try socket.setKernelBufferSizes(bytes: kernelBufferBytes)
        try socket.connect(endpoint)
        try socket.send([ZMQMessage(copying: [0])])
        while true {
            guard let request = try socket.receive(timeoutMilliseconds: peerTimeoutMilliseconds) else {
                throw BenchError("transfer-peer: no request from \(endpoint) within \(peerTimeoutMilliseconds) ms")
            }
            if request[0].count == 0 { return }
            let message = try ZMQMessage(size: bytes)
            message.withUnsafeMutableBytes { frame in
                frame.initializeMemory(as: UInt8.self, repeating: 0x5A)
                frame.storeBytes(of: monotonicNanoseconds(), as: UInt64.self)
            }
            try socket.send([message])
        }
    }
}
