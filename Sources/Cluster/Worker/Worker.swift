import Clock
import Foundation
import MLP
import Training
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// `dptrain worker`, whichever collective the coordinator runs: joins it,
/// keeps the heartbeats going both ways at the pace its welcome gives,
/// notices its silence, and hands every other message to the collective's
/// part (`WorkerCollective`). Holds no data files: everything arrives over
/// the socket.
public final class Worker: KeepingAlive {
    public enum Exit: Equatable {
        case toldToStop
        case refused(reason: String)
        case coordinatorGone
        case parentGone
        case signalled(Int32)
    }

    private let endpoint: String
    private let ringListen: String
    /// Until the welcome says otherwise: how often to speak, how long silence may last.
    private var timing: ClusterSettings
    private let joinTiming: ClusterSettings
    private let protocolVersion: UInt16
    private let parentProcess: pid_t?
    private let output: Output
    private let name: String
    /// Replaced by a new one when the coordinator falls silent (`reconnect`).
    private(set) var socket: ZMQSocket
    private var lastHeard = monotonicNanoseconds()
    private var lastSent = monotonicNanoseconds()
    /// Reused by every receive, so that the steady state allocates no frames.
    private let received = ZMQFrames()
    private let sender = WireSender()
    private var collective: WorkerCollective?
    /// Said hello again after a refusal, and not yet welcomed.
    private var rejoining = false
    private var limits = DecodingLimits.beforeWelcome
    /// A test hook only: see CentralWorker's and RingWorker's lieOffset.
    public var lieOffset: Int64 = 0
    /// As long as a coordinator pauses below --min-workers by default.
    public static let defaultRejoinTimeoutSeconds: Double = 60
    /// The most a welcome may have this worker allocate for its network.
    public static let maxAllocationBytes = 4 << 30
    private let curve: WorkerCurve?
    /// Until a first welcome, silence means the handshake or the address is wrong, not a coordinator gone.
    private var welcomedOnce = false
    /// How long a welcomed worker that lost its coordinator (silent for the
    /// peer timeout) keeps waiting for an answer to a new hello; 0: exit at once.
    private let rejoinTimeoutSeconds: Double
    /// When this worker lost its coordinator and said hello again; nil while it hears from it.
    private var lostAt: UInt64?

    /// `timing` holds until a welcome replaces it. `parentProcess`: exit as
    /// soon as that process is gone (set by `simulate`, so that a killed
    /// simulation never leaves workers behind). `ringListen`: where to bind
    /// for ring traffic if the coordinator runs a ring. `rejoinTimeoutSeconds`:
    /// how long to wait for a lost coordinator after saying hello again.
    public init(
        coordinator endpoint: String, ringListen: String, timing: ClusterSettings, parentProcess: pid_t? = nil,
        protocolVersion: UInt16 = wireProtocolVersion, curve: WorkerCurve? = nil,
        rejoinTimeoutSeconds: Double = Worker.defaultRejoinTimeoutSeconds, output: Output
    ) throws {
        self.rejoinTimeoutSeconds = rejoinTimeoutSeconds
        self.curve = curve
        self.endpoint = endpoint
        self.ringListen = ringListen
        self.timing = timing
        joinTiming = timing
        self.parentProcess = parentProcess
        self.protocolVersion = protocolVersion
        self.output = output
        name = "\(ProcessInfo.processInfo.hostName):\(getpid())"
        socket = try Self.connect(to: endpoint, curve: curve, connectTimeoutMilliseconds: timing.peerTimeoutMilliseconds)
    }

    /// A DEALER to the coordinator. A TCP connect pending for a peer timeout
    /// starts over with a fresh SYN: one lost while a link was cut would
    /// otherwise be sent again only after the system's backoff (1, 3, 7... s).
    private static func connect(to endpoint: String, curve: WorkerCurve?, connectTimeoutMilliseconds: Int) throws -> ZMQSocket {
        let socket = try ZMQSocket(context: .shared(), kind: .dealer)
        try socket.setLinger(milliseconds: 2000)
        try socket.setKernelBufferSizes(bytes: 4 << 20)
        try socket.setConnectTimeout(milliseconds: connectTimeoutMilliseconds)
        if let curve { try socket.setCurveClient(curve.keys, serverKey: curve.coordinatorKey) }
        try socket.connect(endpoint)
        return socket
    }

    /// Starts a new session on a new socket (a new TCP connection and a new
    /// routing identity) after the coordinator fell silent. The old
    /// connection comes out of a cut link with each direction's unacknowledged
    /// data waiting on its own sender's retransmission timer, backed off to
    /// seconds by then: a welcome queued behind the coordinator's stale work
    /// could arrive later than the peer timeout, while this worker, not yet
    /// welcomed, had nothing to say, so the coordinator dropped the new member
    /// as silent. On a new connection the welcome follows the handshake at
    /// once, the old session's queued frames (its work, our heartbeats) are
    /// discarded with the old socket, and none can be taken for the new
    /// session's.
    private func reconnect(connectTimeoutMilliseconds: Int) throws {
        try? socket.setLinger(milliseconds: 0)
        socket.close()
        socket = try Self.connect(to: endpoint, curve: curve, connectTimeoutMilliseconds: connectTimeoutMilliseconds)
    }

    deinit { socket.close() }

    public func run(stopSignal: () -> Int32?) throws -> Exit {
        try sayHello()
        // A coordinator message that ended the collective's work midway, handled next.
        var carriedOver: [ZMQMessage]?
        while true {
            if let signal = stopSignal() { return .signalled(signal) }
            if let parent = parentProcess, getppid() != parent { return .parentGone }
            let frames: ArraySlice<ZMQMessage>?
            do {
                if let carried = carriedOver {
                    frames = carried[...]
                } else {
                    frames = try socket.receive(
                        into: received, timeoutMilliseconds: timing.heartbeatMilliseconds, headerIndex: 0, allowance: limits)
                        ? received.received : nil
                }
                carriedOver = nil
            } catch let error as ZMQError where error.isInterrupted {
                continue
            } catch let error as ZMQError where error.isOversized {
                output.log("worker: rejected a message from the coordinator: \(error.message)")
                continue
            }
            guard let frames else {
                let now = monotonicNanoseconds()
                if let lostAt {
                    guard Double(now - lostAt) / 1e9 > rejoinTimeoutSeconds else { continue }
                    output.log("worker: coordinator at \(endpoint) still silent \(rejoinWindow) after this worker said hello again; exiting")
                    return .coordinatorGone
                }
                if now - lastHeard > UInt64(timing.peerTimeoutMilliseconds) * 1_000_000 {
                    if !welcomedOnce {
                        output.log("worker: \(noAnswerReason)")
                        return .coordinatorGone
                    }
                    guard rejoinTimeoutSeconds > 0 else {
                        output.log("worker: coordinator at \(endpoint) silent for over \(timing.peerTimeoutMilliseconds) ms; exiting")
                        return .coordinatorGone
                    }
                    // A cut link looks the same from both ends: the coordinator
                    // has given this worker's work to the others by now, and
                    // the hello waits in the new socket until its connection is made.
                    output.log("worker: coordinator at \(endpoint) silent for over \(timing.peerTimeoutMilliseconds) ms; saying hello again on a new connection and waiting up to \(rejoinWindow)")
                    let peerTimeout = timing.peerTimeoutMilliseconds
                    leave()
                    try reconnect(connectTimeoutMilliseconds: peerTimeout)
                    try sayHello()
                    rejoining = true
                    lostAt = now
                    continue
                }
                if collective != nil { try send(.heartbeat) }
                continue
            }
            lastHeard = monotonicNanoseconds()
            lostAt = nil
            let message: WireMessage
            do {
                message = try WireMessage.decode(frames, limits: limits)
            } catch {
                output.log("worker: rejected a message from the coordinator: \(error)")
                continue
            }
            switch message {
            case .welcome(let welcome):
                rejoining = false
                try join(welcome)
            case .refuse(let reason) where collective != nil:
                // Declared dead while alive (paused, or a slow network): start over.
                output.log("worker: the coordinator no longer counts this worker (\(reason)); joining again")
                leave()
                try sayHello()
                rejoining = true
            case .refuse(let reason) where rejoining && RefusalHint.mayJoinAgain(reason):
                // The answer to a message sent before the new hello.
                continue
            case .refuse(let reason):
                output.log("worker: refused by coordinator at \(endpoint): \(reason)")
                return .refused(reason: reason)
            case .shutdown(let reason):
                output.info("worker: coordinator says stop: \(reason)")
                return .toldToStop
            case .heartbeat:
                continue
            default:
                guard let collective else { continue }
                carriedOver = try collective.handle(message, for: self)
            }
        }
    }

    /// Builds the collective's part the welcome asks for, sized by it, and
    /// takes the run's timing from it.
    private func join(_ welcome: Welcome) throws {
        let architecture: Architecture
        do {
            limits = try DecodingLimits(welcome: welcome)
            architecture = try Architecture(
                layerSizes: welcome.layerSizes.map(Int.init), activation: Activation(name: welcome.activation),
                loss: Loss(name: welcome.loss))
        } catch {
            throw ClusterError.incompatibleCoordinator("its welcome describes a network this worker cannot build: \(error)")
        }
        let bytes = ShardGradientComputer.bytesNeeded(architecture: architecture, shardSize: Int(welcome.shardSize))
        guard bytes <= Self.maxAllocationBytes else {
            throw ClusterError.incompatibleCoordinator(
                "its welcome (\(welcome.layerSizes.map(String.init).joined(separator: ",")), shard size \(welcome.shardSize)) would have this worker allocate \(bytes >> 30) GiB, over its limit of \(Self.maxAllocationBytes >> 30) GiB")
        }
        welcomedOnce = true
        timing.heartbeatMilliseconds = Int(welcome.heartbeatMilliseconds)
        timing.peerTimeoutMilliseconds = Int(welcome.peerTimeoutMilliseconds)
        let options = GradientOptions(
            seed: welcome.noiseSeed, dropout: welcome.dropout, labelSmoothing: welcome.labelSmoothing, shift: Int(welcome.shift))
        guard options.shift == 0 || ShardGradientComputer.imageSide(inputSize: architecture.inputSize) != nil else {
            throw ClusterError.incompatibleCoordinator("its welcome asks for shifts of images that are not square (\(architecture.inputSize) pixels)")
        }
        let computer = ShardGradientComputer(architecture: architecture, shardSize: Int(welcome.shardSize), options: options)
        output.info("worker: joined \(endpoint) as worker \(welcome.workerID)")
        switch welcome.collective {
        case .central:
            collective = CentralWorker(
                computer: computer, packGradients: !endpoint.hasPrefix("ipc://"), lieOffset: lieOffset, output: output)
        case .ring:
            let ring = try RingWorker(
                computer: computer, limits: limits, listen: ringListen, coordinator: socket, timing: timing, curve: curve?.keys,
                lieOffset: lieOffset, output: output)
            collective = ring
            try send(.ringAddress(ring.address(publicKey: curve?.keys.publicKey)))
        }
    }

    /// "60 s", "0.5 s".
    private var rejoinWindow: String {
        rejoinTimeoutSeconds == rejoinTimeoutSeconds.rounded() ? "\(Int(rejoinTimeoutSeconds)) s" : "\(rejoinTimeoutSeconds) s"
    }

    /// A CURVE handshake that fails looks, from here, like a coordinator that never answers.
    private var noAnswerReason: String {
        let head = "no answer from the coordinator at \(endpoint) within \(timing.peerTimeoutMilliseconds) ms"
        if curve != nil {
            return "\(head): wrong --coordinator-key, this worker's public key not in its --authorized-keys, the coordinator not using CURVE, or not a dptrain coordinator; exiting"
        }
        return "\(head): is it running there? (a coordinator with CURVE on never answers a worker without --curve-secret-key); exiting"
    }

    private func leave() {
        collective = nil
        limits = .beforeWelcome
        timing = joinTiming
    }

    private func sayHello() throws {
        try socket.send(Hello(pid: UInt32(getpid()), workerName: name).encode(version: protocolVersion))
    }

    func send(_ message: WireMessage) throws {
        try sender.send(message, on: socket)
        lastSent = monotonicNanoseconds()
    }

    /// A heartbeat if nothing was sent for an interval: long computations and
    /// ring waits must not look like silence to the coordinator.
    func keepAlive() {
        guard monotonicNanoseconds() - lastSent > UInt64(timing.heartbeatMilliseconds) * 1_000_000 else { return }
        try? send(.heartbeat)
    }
}
