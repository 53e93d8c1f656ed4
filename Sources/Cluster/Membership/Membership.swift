import Clock
import MLP
import Training
import Wire

/// The coordinator's ROUTER socket and the workers on the other end of it:
/// welcomes them, answers their heartbeats, notices their silence, and
/// rejects (and expels the sender of) anything that does not decode. What
/// members compute is the collective's business: it hears of their other
/// messages and of their loss through its delegate.
final class Membership {
    let endpoint: String
    private let context: ZMQContext
    private let socket: ZMQSocket
    /// Checks each CURVE client's key in the handshake; nil in plaintext.
    private let zap: ZAPHandler?
    /// Handshakes that failed before the ZAP handler saw them (plaintext peers).
    private let handshakes: ZMQHandshakeMonitor?
    /// A refused plaintext client retries every 100 ms: one line per 10 s at most.
    private var lastHandshakeLog: UInt64 = 0
    private var unloggedHandshakes = 0
    private let welcomeTemplate: Welcome
    private let settings: ClusterSettings
    let output: Output
    let limits: DecodingLimits
    private(set) var members: [Member] = []
    private var nextWorkerID: UInt32 = 1
    private(set) var rejectedMessages = 0
    /// Identities refused for the rest of the run, with why; and how often each was expelled.
    private var denied: [String: String] = [:]
    private var expulsions: [String: Int] = [:]
    /// Caps the deny list and the expulsion counts: a stranger minting
    /// identities must not grow them without bound either.
    static let maxRemembered = 4096
    private let sender = WireSender()
    private let received = ZMQFrames()
    weak var delegate: MembershipDelegate?
    /// Polled at every receive, so a stop request is not held up by a stuck step.
    var stopSignal: () -> Int32? = { nil }

    init(
        listen: String, architecture: Architecture, shardSize: Int, collective: CollectiveKind,
        gradientOptions: GradientOptions = GradientOptions(), settings: ClusterSettings, curve: CoordinatorCurve? = nil,
        output: Output
    ) throws {
        self.settings = settings
        self.output = output
        limits = .run(parameterCount: architecture.parameterCount, inputSize: architecture.inputSize, shardSize: shardSize)
        welcomeTemplate = Welcome(
            workerID: 0, shardSize: UInt32(shardSize), heartbeatMilliseconds: UInt32(settings.heartbeatMilliseconds),
            peerTimeoutMilliseconds: UInt32(settings.peerTimeoutMilliseconds),
            activation: architecture.activation.rawValue, loss: architecture.loss.rawValue,
            layerSizes: architecture.layerSizes.map { UInt32($0) }, collective: collective,
            noiseSeed: gradientOptions.seed, dropout: gradientOptions.dropout, labelSmoothing: gradientOptions.labelSmoothing,
            shift: UInt8(gradientOptions.shift))
        // A context of its own: two I/O threads drain several workers' gradients
        // in parallel, and terminating it at shutdown waits for the last
        // messages (the workers' shutdown) to leave.
        context = try ZMQContext()
        try context.setIOThreads(2)
        socket = try ZMQSocket(context: context, kind: .router)
        // Long enough for the workers' shutdown to get through a lossy link:
        // TCP's retransmissions back off from 200 ms, and a worker that never
        // hears it waits out its peer timeout and then tries to rejoin. A
        // shutdown that is delivered ends the wait at once.
        try socket.setLinger(milliseconds: 5000)
        try socket.setRouterMandatory(true)
        try socket.setKernelBufferSizes(bytes: 4 << 20)
        // A stranger cannot make us buffer a frame larger than the largest
        // of any message a coordinator receives (work's pixels go the other way).
        try socket.setMaxMessageSize(limits.largestFrameWithoutPixels)
        if let curve {
            zap = try ZAPHandler(context: context, allowed: curve.authorized) { request, reason in
                output.log("coordinator: refused a connection from \(request.address.isEmpty ? "a local peer" : request.address): \(reason)")
            }
            try socket.setCurveServer(curve.keys, domain: ListenScope.zapDomain)
            handshakes = try ZMQHandshakeMonitor(watching: socket)
        } else {
            zap = nil
            handshakes = nil
        }
        do {
            endpoint = try socket.bind(listen)
        } catch let error as ZMQError {
            throw ClusterError.cannotListen(endpoint: listen, reason: error.message)
        }
        output.info("coordinator: listening on \(endpoint)")
        if let curve {
            output.info("coordinator: CURVE on, public key \(curve.keys.publicKey.z85), \(curve.authorized.count) authorised worker keys")
        } else if !ListenScope.isLocal(endpoint) {
            output.log(ListenScope.plaintextWarning(endpoint))
        }
    }

    deinit { socket.close() }

    func member(_ peer: PeerID) -> Member? { members.first { $0.peer == peer } }

    /// Tells every worker to exit, and waits (up to the socket's linger) until
    /// those messages have left: a process that exits with messages still
    /// queued in ZeroMQ loses them, and its workers would wait out their timeout.
    func shutdown(reason: String) {
        for member in members {
            try? socket.send(to: member.peer, WireMessage.shutdown(reason: reason).encode())
        }
        members.removeAll()
        socket.close()
        handshakes?.close()
        zap?.stop()
        context.terminate()
    }

    /// Sends to one member; a peer that is gone or stuck is marked silent
    /// (and lost at the next check) rather than failing the step.
    func send(to peer: PeerID, _ message: WireMessage) throws {
        do {
            try sender.send(message, on: socket, to: peer)
        } catch let error as ZMQError where error.isHostUnreachable || error.isWouldBlock {
            if let index = members.firstIndex(where: { $0.peer == peer }) { members[index].lastHeard = 0 }
        }
    }

    // MARK: - Receiving

    /// Handles at most one message, waiting up to `timeoutMilliseconds`;
    /// false if none came (the queue is drained).
    @discardableResult
    func receiveOne(timeoutMilliseconds: Int) throws -> Bool {
        if let signal = stopSignal() { throw StopRequested(signal: signal) }
        for failure in handshakes?.failures() ?? [] where failure.event != ZMQHandshakeMonitor.refusedByZAP {
            guard lastHandshakeLog == 0 || monotonicNanoseconds() - lastHandshakeLog > 10_000_000_000 else {
                unloggedHandshakes += 1
                continue
            }
            let more = unloggedHandshakes > 0 ? " (and \(unloggedHandshakes) more failed handshakes since the last such line)" : ""
            output.log("coordinator: refused a connection: \(failure)\(more)")
            (lastHandshakeLog, unloggedHandshakes) = (monotonicNanoseconds(), 0)
        }
        do {
            // One more frame than any message has: the routing identity in front.
            // The header after the identity says how many frames, and how large, the rest may be.
            guard try socket.receive(into: received, timeoutMilliseconds: timeoutMilliseconds,
                                     maxFrames: ZMQSocket.defaultMaxFrames + 1, headerIndex: 1, allowance: limits) else { return false }
        } catch let error as ZMQError where error.isInterrupted {
            return false
        } catch let error as ZMQError {
            // An oversized or malformed multipart message is a stranger's problem, not ours.
            reject(from: nil, because: "\(error)")
            return true
        }
        try handle(received.received)
        return true
    }

    private func handle(_ frames: ArraySlice<ZMQMessage>) throws {
        // A ROUTER always delivers the identity first. Members are found by
        // comparing it in place, so a member's message builds no PeerID.
        let index = frames[frames.startIndex].withUnsafeBytes { identity in
            members.firstIndex { $0.peer.bytes.elementsEqual(identity) }
        }
        let peer = index.map { members[$0].peer } ?? PeerID(frames[frames.startIndex].bytes)
        let message: WireMessage
        do {
            message = try WireMessage.decode(frames.dropFirst(), limits: limits)
        } catch let error as ProtocolError {
            reject(from: peer, because: "\(error)")
            try expel(peer, because: "sent a malformed message")
            if case .versionMismatch(let theirs, let ours) = error {
                let reason = "protocol version \(theirs) is not supported: this coordinator speaks version \(ours)"
                try? socket.send(to: peer, WireMessage.refuse(reason: reason).encode())
            }
            return
        }
        guard let index else {
            if case .hello(let hello) = message { return try admit(peer, name: hello.workerName) }
            reject(from: peer, because: "\(message.kind) from a peer that is not a member")
            // A worker we declared dead may still be alive: tell it to join again.
            try? socket.send(to: peer, WireMessage.refuse(reason: "not a member of this run; \(RefusalHint.joinAgain)").encode())
            return
        }
        if case .hello(let hello) = message {
            // The member lost us first (a cut link seen from its end) and
            // started over: what it held goes to the others, and it joins anew.
            let member = members.remove(at: index)
            output.log("coordinator: \(member.label) said hello again; its work goes to the others")
            try delegate?.membership(lost: member)
            return try admit(peer, name: hello.workerName)
        }
        members[index].lastHeard = monotonicNanoseconds()
        switch message {
        case .heartbeat:
            try? sender.send(.heartbeat, on: socket, to: peer)
        case .ringAddress(let address) where welcomeTemplate.collective == .ring:
            members[index].ringEndpoint = address.endpoint
            members[index].ringPublicKey = address.publicKey
            members[index].ringHost = address.host
            members[index].ringSharedInboxPrefix = address.sharedInboxPrefix
            output.info("coordinator: worker \(members[index].id) takes ring traffic at \(address.endpoint)")
        default:
            try delegate?.membership(received: message, from: members[index])
        }
    }

    /// Who a peer is, for the deny list. Without CURVE only the name it gives
    /// (a liar can change it; with CURVE this becomes its public key).
    static func identity(name: String) -> String { "name \(name)" }

    /// Welcomes a newcomer unless its identity is denied or the run is full.
    private func admit(_ peer: PeerID, name: String) throws {
        if let why = denied[Self.identity(name: name)] {
            reject(from: peer, because: "hello from \(name), denied for the rest of this run (\(why))")
            try? socket.send(to: peer, WireMessage.refuse(reason: "denied for the rest of this run: \(why)").encode())
            return
        }
        guard members.count < settings.maxMembers else {
            reject(from: peer, because: "hello from \(name) while the run has its \(members.count) members")
            try? socket.send(to: peer, WireMessage.refuse(reason: "this run has all the members it takes").encode())
            return
        }
        try welcome(peer, name: name)
    }

    private func welcome(_ peer: PeerID, name: String) throws {
        let member = Member(id: nextWorkerID, peer: peer, name: name, lastHeard: monotonicNanoseconds())
        nextWorkerID += 1
        var welcome = welcomeTemplate
        welcome.workerID = member.id
        try socket.send(to: peer, WireMessage.welcome(welcome).encode())
        members.append(member)
        output.info("coordinator: \(member.label) joined; \(members.count) live")
    }

    func reject(from peer: PeerID?, because reason: String) {
        rejectedMessages += 1
        let who = peer.map { peer in member(peer)?.label ?? "peer \(peer)" } ?? "an unknown peer"
        output.log("coordinator: rejected message #\(rejectedMessages) from \(who): \(reason)")
    }

    // MARK: - Losing members

    /// A member that sends nonsense is dropped at once (rather than after the
    /// peer timeout) and told to join again: a transient fault costs it one
    /// step, a broken worker keeps being refused.
    ///
    /// A member expelled a second time, for any reason, or with `deny`
    /// (caught lying), is denied for the rest of the run.
    func expel(_ peer: PeerID, because reason: String, deny: Bool = false) throws {
        guard let index = members.firstIndex(where: { $0.peer == peer }) else { return }
        let member = members.remove(at: index)
        let identity = Self.identity(name: member.name)
        let count = (expulsions[identity] ?? 0) + 1
        if expulsions[identity] != nil || expulsions.count < Self.maxRemembered { expulsions[identity] = count }
        if (deny || count >= 2), denied.count < Self.maxRemembered {
            denied[identity] = reason
            output.log("coordinator: \(member.label) \(reason); denied for the rest of the run (\(identity)); its work goes to the others")
            try? socket.send(to: peer, WireMessage.refuse(reason: "\(reason); denied for the rest of this run").encode())
        } else {
            output.log("coordinator: \(member.label) \(reason); its work goes to the others")
            try? socket.send(to: peer, WireMessage.refuse(reason: "\(reason); \(RefusalHint.joinAgain) again").encode())
        }
        try delegate?.membership(lost: member)
    }

    /// Drops every member silent for longer than the peer timeout. Only
    /// once the queue is drained: after a busy spell (an evaluation, a
    /// checkpoint) members' heartbeats wait there, and they are not silent.
    func dropSilentMembers() throws {
        let now = monotonicNanoseconds()
        let limit = UInt64(settings.peerTimeoutMilliseconds) * 1_000_000
        guard members.contains(where: { now > $0.lastHeard + limit }) else { return }
        let silent = members.filter { now > $0.lastHeard + limit }
        members.removeAll { now > $0.lastHeard + limit }
        for member in silent {
            output.log("coordinator: \(member.label) silent for over \(settings.peerTimeoutMilliseconds) ms; its work goes to the others")
            try delegate?.membership(lost: member)
        }
    }
}
