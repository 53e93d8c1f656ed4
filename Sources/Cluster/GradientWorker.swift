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
    private let ringListen: String
    private let name: String
    private let settings: ClusterSettings
    private let protocolVersion: UInt16
    private let parentProcess: pid_t?
    private let log: (String) -> Void
    private let socket: ZMQSocket
    private var lastHeard = monotonicNanoseconds()
    private var lastSent = monotonicNanoseconds()
    /// Reused by every receive, so that the steady state allocates no frames.
    private let received = ZMQFrames()
    private let sender = WireSender()

    /// `parentProcess`: exit as soon as that process is gone (set by `simulate`,
    /// so that a killed simulation never leaves workers behind). `ringListen`:
    /// where to bind for ring traffic if the coordinator asks for a ring.
    public init(
        coordinator endpoint: String, ringListen: String, settings: ClusterSettings, parentProcess: pid_t? = nil,
        protocolVersion: UInt16 = wireProtocolVersion, log: @escaping (String) -> Void
    ) throws {
        self.endpoint = endpoint
        self.ringListen = ringListen
        self.settings = settings
        self.parentProcess = parentProcess
        self.protocolVersion = protocolVersion
        self.log = log
        name = "\(ProcessInfo.processInfo.hostName):\(getpid())"
        socket = try ZMQSocket(context: .shared(), kind: .dealer)
        try socket.setLinger(milliseconds: 2000)
        try socket.setKernelBufferSizes(bytes: 4 << 20)
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    public func run(stopSignal: () -> Int32?) throws -> Exit {
        try socket.send(Hello(pid: UInt32(getpid()), workerName: name).encode(version: protocolVersion))
        var joined: WelcomedWorker?
        var ring: RingMember?
        let joinLimits = DecodingLimits.beforeWelcome
        // A coordinator message that ended a ring exchange, handled next.
        var carriedOver: [ZMQMessage]?
        while true {
            if let signal = stopSignal() { return .signalled(signal) }
            if let parent = parentProcess, getppid() != parent { return .parentGone }
            let frames: ArraySlice<ZMQMessage>?
            do {
                if let carried = carriedOver {
                    frames = carried[...]
                } else {
                    frames = try socket.receive(into: received, timeoutMilliseconds: settings.heartbeatMilliseconds)
                        ? received.received : nil
                }
                carriedOver = nil
            } catch let error as ZMQError where error.isInterrupted {
                continue
            }
            guard let frames else {
                if monotonicNanoseconds() - lastHeard > UInt64(settings.peerTimeoutMilliseconds) * 1_000_000 {
                    log("worker: coordinator at \(endpoint) silent for over \(settings.peerTimeoutMilliseconds) ms; exiting")
                    return .coordinatorGone
                }
                if joined != nil { try sendHeartbeat() }
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
                let worker = try WelcomedWorker(welcome, packGradients: !endpoint.hasPrefix("ipc://"))
                joined = worker
                log("worker: joined \(endpoint) as worker \(welcome.workerID)")
                ring = nil
                if welcome.collective == .ring {
                    let member = try RingMember(
                        computer: worker.computer, limits: worker.limits, listen: ringListen, settings: settings, log: log)
                    ring = member
                    try socket.send(WireMessage.ringAddress(RingAddress(endpoint: member.endpoint)).encode())
                }
            case .refuse(let reason) where joined != nil:
                // Declared dead while alive (paused, or a slow network): start over.
                log("worker: the coordinator no longer counts this worker (\(reason)); joining again")
                joined = nil
                ring = nil
                try socket.send(Hello(pid: UInt32(getpid()), workerName: name).encode(version: protocolVersion))
            case .refuse(let reason):
                log("worker: refused by coordinator at \(endpoint): \(reason)")
                return .refused(reason: reason)
            case .work(let work):
                guard let joined else { continue }
                // A long block of shards must not look like silence to the coordinator.
                try send(try joined.answer(work) { keepAlive() })
            case .ringSetup(let setup):
                try ring?.setUp(setup)
            case .ringWork(let work):
                guard let ring else { continue }
                // Work sent ahead waits its turn; each step done may free the next.
                var next = ring.admit(work) == .run ? work : nil
                while let current = next {
                    next = nil
                    switch try ring.run(current, coordinator: socket, keepAlive: { keepAlive() }) {
                    case .done(let done)?:
                        try send(.ringDone(done))
                        next = ring.takeHeld()
                    case .interrupted(let frames)?: carriedOver = frames
                    case nil: break
                    }
                }
            case .stateRequest(let request):
                guard let ring else { continue }
                if let slice = try ring.stateSlice(for: request) {
                    try send(slice)
                } else if ring.cannotGive(request) {
                    // Half way through a step sent ahead, or past the one asked about.
                    try send(.ringDone(RingDone(
                        generation: request.generation, step: request.step, status: .stalled,
                        lossSumFixedPoint: 0, correct: 0, sampleCount: 0, computeNanoseconds: 0)))
                }
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

    private func send(_ message: WireMessage) throws {
        try sender.send(message, on: socket)
        lastSent = monotonicNanoseconds()
    }

    private func send(_ frames: [ZMQMessage]) throws {
        try socket.send(frames)
        lastSent = monotonicNanoseconds()
    }

    private func sendHeartbeat() throws { try send(.heartbeat) }

    /// A heartbeat if nothing was sent for an interval: long computations and
    /// ring waits must not look like silence to the coordinator.
    private func keepAlive() {
        guard monotonicNanoseconds() - lastSent > UInt64(settings.heartbeatMilliseconds) * 1_000_000 else { return }
        try? sendHeartbeat()
    }
}
