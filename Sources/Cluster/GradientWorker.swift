import Collective
import Foundation
import MLP
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// `dptrain worker`: joins a coordinator, then answers each work message
/// with the fixed-point gradient sum of its micro-shards. Holds no data
/// files; everything arrives over the socket.
public final class GradientWorker {
    public enum Exit: Equatable {
        case toldToStop
        case refused(reason: String)
        case coordinatorGone
        case parentGone
        case signalled(Int32)
    }

    private let endpoint: String
    private let name: String
    private let settings: ClusterSettings
    private let protocolVersion: UInt16
    private let parentProcess: pid_t?
    private let log: (String) -> Void
    private let socket: ZMQSocket
    private var lastHeard = monotonicNanoseconds()

    /// `parentProcess`: exit as soon as that process is gone (set by `simulate`,
    /// so that a killed simulation never leaves workers behind).
    public init(
        coordinator endpoint: String, settings: ClusterSettings, parentProcess: pid_t? = nil,
        protocolVersion: UInt16 = wireProtocolVersion, log: @escaping (String) -> Void
    ) throws {
        self.endpoint = endpoint
        self.settings = settings
        self.parentProcess = parentProcess
        self.protocolVersion = protocolVersion
        self.log = log
        name = "\(ProcessInfo.processInfo.hostName):\(getpid())"
        socket = try ZMQSocket(context: .shared, kind: .dealer)
        try socket.setLinger(milliseconds: 2000)
        try socket.setKernelBufferSizes(bytes: 4 << 20)
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    public func run(stopSignal: () -> Int32?) throws -> Exit {
        try socket.send(Hello(pid: UInt32(getpid()), workerName: name).encode(version: protocolVersion))
        var joined: WelcomedWorker?
        let joinLimits = DecodingLimits.beforeWelcome
        while true {
            if let signal = stopSignal() { return .signalled(signal) }
            if let parent = parentProcess, getppid() != parent { return .parentGone }
            let frames: [ZMQMessage]?
            do {
                frames = try socket.receive(timeoutMilliseconds: settings.heartbeatMilliseconds)
            } catch let error as ZMQError where error.isInterrupted {
                continue
            }
            guard let frames else {
                if monotonicNanoseconds() - lastHeard > UInt64(settings.peerTimeoutMilliseconds) * 1_000_000 {
                    log("worker: coordinator at \(endpoint) silent for over \(settings.peerTimeoutMilliseconds) ms; exiting")
                    return .coordinatorGone
                }
                if joined != nil { try socket.send(WireMessage.heartbeat.encode()) }
                continue
            }
            lastHeard = monotonicNanoseconds()
            let message: WireMessage
            do {
                message = try WireMessage.decode(frames, limits: joined?.limits ?? joinLimits)
            } catch {
                log("worker: rejected a message from the coordinator: \(error)")
                continue
            }
            switch message {
            case .welcome(let welcome):
                joined = try WelcomedWorker(welcome, packGradients: !endpoint.hasPrefix("ipc://"))
                log("worker: joined \(endpoint) as worker \(welcome.workerID)")
            case .refuse(let reason) where joined != nil:
                // Declared dead while alive (paused, or a slow network): start over.
                log("worker: the coordinator no longer counts this worker (\(reason)); joining again")
                joined = nil
                try socket.send(Hello(pid: UInt32(getpid()), workerName: name).encode(version: protocolVersion))
            case .refuse(let reason):
                log("worker: refused by coordinator at \(endpoint): \(reason)")
                return .refused(reason: reason)
            case .work(let work):
                guard let joined else { continue }
                // A long block of shards must not look like silence to the coordinator.
                var lastSent = monotonicNanoseconds()
                let interval = UInt64(settings.heartbeatMilliseconds) * 1_000_000
                let reply = try joined.answer(work) { [socket] in
                    guard monotonicNanoseconds() - lastSent > interval else { return }
                    try? socket.send(WireMessage.heartbeat.encode())
                    lastSent = monotonicNanoseconds()
                }
                try socket.send(reply)
            case .shutdown(let reason):
                log("worker: coordinator says stop: \(reason)")
                return .toldToStop
            case .heartbeat:
                continue
            default:
                log("worker: ignoring unexpected \(message.kind)")
            }
        }
    }
}
