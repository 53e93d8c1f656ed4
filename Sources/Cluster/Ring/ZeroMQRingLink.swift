import Clock
import Foundation
import Collective
import Training
import Wire

/// Something that sends the coordinator a heartbeat when one is due, so that
/// long computations and ring waits do not look like silence.
protocol KeepingAlive: AnyObject {
    func keepAlive()
}

/// A ring member's link to its neighbours over ZeroMQ: the edge of
/// RingAllReduce. A neighbour on the same host exchanges the bulk traffic
/// through shared memory instead (`SharedRingPath`), when the ring setup
/// names segments; the coordinator is watched the same way either way. Traffic arrives on `inbox` (a PULL socket bound here) from
/// the left neighbour and leaves through `outbox` (a PUSH connected to the
/// right one). While it waits for a piece it also watches the coordinator:
/// work sent ahead is kept (`takeHeldWork`), any other message but a
/// heartbeat ends the exchange (`interruption`), and so does a left
/// neighbour silent past the peer timeout (`stalled`). Every piece is
/// checked against what the round expects, and against the left link's
/// token from the ring setup (so a chunk from anyone else is dropped, with
/// or without CURVE); traffic of a later ring or step that came early is
/// kept for then.
final class ZeroMQRingLink: RingLink {
    /// Where the left neighbour connects, as announced to the coordinator.
    let endpoint: String
    private let inbox: ZMQSocket
    private var outbox: ZMQSocket?
    private var outboxTarget = ""
    private var outboxKey: CurveKey?
    /// CURVE: this member's keys, and the handler letting only the left neighbour into the inbox.
    private let curve: CurveKeyPair?
    private let zap: ZAPHandler?
    private let coordinator: ZMQSocket
    private let limits: DecodingLimits
    private let timing: ClusterSettings
    private let output: Output
    weak var heartbeat: KeepingAlive?
    private var poller = ZMQPoller()
    private let inboxFrames = ZMQFrames()
    private let coordinatorFrames = ZMQFrames()
    private let sender = WireSender()
    /// The frame each bulk send refers to its bytes through.
    private let outgoing = ZMQMessage()
    /// Packed reduce-scatter pieces, each in a region of its own (sized at
    /// `connect`), lent to their sends until the step is known to be done.
    private var packed = LendableBuffer<UInt64>(uninitializedCount: 0)
    private var regionWords = 0
    /// Packed weight steps of the all-gather, a region per piece as for
    /// `packed`, lent until the next step proves them received.
    private var packedSteps = LendableBuffer<UInt64>(uninitializedCount: 0)
    /// A piece's weights before the step, where this member sends it on
    /// over a socket as steps from them: its owned pieces (kept just before
    /// the update) and pieces that came through shared memory. A region of
    /// `regionFloats` per piece; `keptBefore` says which hold this step's.
    private var before = UnsafeMutableBufferPointer<Float>.allocate(capacity: 0)
    private var regionFloats = 0
    private var keptBefore: [Bool] = []
    /// All-gather frames received over the socket to pass on unchanged:
    /// steps from weights every member holds read the same everywhere.
    private var passOn: [ZMQMessage?] = []
    private var partition = RingPartition(parameterCount: 0, size: 1)
    /// Ring traffic that arrived before its ring or step (rare: a ring being re-formed).
    private var ahead: [[ZMQMessage]] = []
    /// At most what one step of a ring a little larger than this one can
    /// send this member (every phase, every piece): more is a flood, dropped.
    private var aheadCap = 0
    private var rejected = 0
    private var generation: UInt64 = 0
    /// The tokens chunks carry on the link from the left neighbour and on the one to the right.
    private var tokens: (left: UInt64, right: UInt64) = (0, 0)
    private var step: UInt64 = 0
    private var held: RingWork?
    /// The coordinator message that ended the last exchange, for the worker to handle next.
    private(set) var interruption: [ZMQMessage]?
    /// A send to the right neighbour timed out this step: the exchange stalls.
    private var sendTimedOut = false
    private let shared: SharedRingPath
    /// Two levels (hierarchical): shared memory carries the host's own ring
    /// and the sockets the ring between hosts, each under its partition.
    private(set) var twoLevel = false
    /// Which path the call under way takes (`routed`): in a flat ring, the
    /// shared one wherever the neighbour has one.
    private var route = Route.automatic

    enum Route {
        case automatic
        case sharedMemory
        case sockets
    }

    init(
        listen: String, coordinator: ZMQSocket, limits: DecodingLimits, timing: ClusterSettings, curve: CurveKeyPair?,
        output: Output
    ) throws {
        self.curve = curve
        self.coordinator = coordinator
        self.limits = limits
        self.timing = timing
        self.output = output
        shared = SharedRingPath(output: output)
        inbox = try ZMQSocket(context: .shared(), kind: .pull)
        try inbox.setKernelBufferSizes(bytes: 4 << 20)
        // Only ring chunks come in here: no frame larger than a packed piece.
        try inbox.setMaxMessageSize(limits.largestFrameWithoutPixels)
        if let curve {
            // No key until a ring setup names the left neighbour; a neighbour
            // told of this member first waits (patience) rather than being refused.
            zap = try ZAPHandler(context: .shared(), allowed: [], patience: Double(timing.peerTimeoutMilliseconds) / 1000) {
                request, reason in output.log("worker: ring inbox refused a connection from \(request.address): \(reason)")
            }
            try inbox.setCurveServer(curve, domain: "dptrain-ring")
        } else {
            zap = nil
        }
        let bound: String
        do {
            bound = try inbox.bind(listen)
        } catch let error as ZMQError {
            throw ClusterError.cannotListen(endpoint: listen, reason: error.message)
        }
        endpoint = RingEndpoint.advertised(bound: bound)
        poller.add(inbox)
        poller.add(coordinator)
    }

    deinit {
        before.deallocate()
        inbox.close()
        outbox?.close()
        zap?.stop()
        // libzmq leaves a Unix socket's file behind when it closes.
        if endpoint.hasPrefix("ipc://") { unlink(String(endpoint.dropFirst("ipc://".count))) }
    }

    /// Where this member's shared-memory inboxes go (nil: sockets only), and which host it is on.
    var sharedInboxPrefix: String? { shared.inboxPrefix }

    /// Joins ring `generation` with `rightNeighbour` to send to. Traffic
    /// of older rings kept so far is dropped; so are the old ring's claims
    /// on the packing regions (its sends go to a ring that is gone).
    /// Under CURVE, `keys` are the neighbours' public keys: the right one is
    /// pinned for the outbox, the left one is the only key the inbox takes.
    /// Two levels (`inHost`): the segments link the host's own ring, under
    /// its partition and tokens; the sockets, the ring between hosts.
    func connect(
        rightNeighbour: String, keys: (right: CurveKey?, left: CurveKey?), tokens: (left: UInt64, right: UInt64),
        partition: RingPartition, generation: UInt64, segments: (inbox: String, outbox: String) = ("", ""),
        inHost: (partition: RingPartition, tokens: (left: UInt64, right: UInt64))? = nil
    ) throws {
        self.tokens = tokens
        twoLevel = inHost != nil
        try shared.connect(inboxPath: segments.inbox, outboxPath: segments.outbox, tokens: inHost?.tokens ?? tokens,
                           partition: inHost?.partition ?? partition)
        if curve != nil {
            guard let right = keys.right, let left = keys.left else {
                throw ClusterError.incompatibleCoordinator("its ring setup carries no CURVE keys, and this worker's ring needs them")
            }
            zap?.allow([left])
            if right != outboxKey { outbox?.close(); outbox = nil }
            outboxKey = right
        }
        if rightNeighbour != outboxTarget || outbox == nil {
            outbox?.close()
            let socket = try ZMQSocket(context: .shared(), kind: .push)
            try socket.setKernelBufferSizes(bytes: 4 << 20)
            if let curve, let right = outboxKey { try socket.setCurveClient(curve, serverKey: right) }
            try socket.connect(rightNeighbour)
            outbox = socket
            outboxTarget = rightNeighbour
        }
        // A region per piece of every chunk, each big enough for the largest piece.
        let messages = partition.size * partition.pieces
        aheadCap = (2 * partition.pieces + 1) * (partition.size + 4)
        let largestPiece = (0..<messages).map { partition.piece($0 % partition.pieces, of: $0 / partition.pieces).count }.max() ?? 0
        regionWords = (PackedInt64s.largestPackedSize(count: largestPiece) + 7) / 8
        packed.settle()
        packedSteps.settle()
        if packed.count < regionWords * messages {
            packed = LendableBuffer(uninitializedCount: regionWords * messages)
            packedSteps = LendableBuffer(uninitializedCount: regionWords * messages)
        }
        regionFloats = largestPiece
        if before.count < regionFloats * messages {
            before.deallocate()
            before = .allocate(capacity: regionFloats * messages)
        }
        keptBefore = [Bool](repeating: false, count: messages)
        passOn = [ZMQMessage?](repeating: nil, count: messages)
        self.partition = partition
        self.generation = generation
        held = nil
        ahead.removeAll { frames in
            guard case .ringChunk(let chunk)? = try? WireMessage.decode(frames, limits: limits) else { return true }
            return chunk.generation < generation
        }
    }

    /// Starts the exchange of `step`.
    func begin(step: UInt64) {
        self.step = step
        interruption = nil
        sendTimedOut = false
        // Weights kept by a step that ended midway are not this step's.
        for message in keptBefore.indices { keptBefore[message] = false }
        for message in passOn.indices { passOn[message] = nil }
    }

    /// The step's packed pieces have all reached the right neighbour: after
    /// an all-gather it finished (its owned chunk came back round), and after
    /// a non-finite step the coordinator's next work proves every member done.
    func settlePacking() { packed.settle() }

    /// Later work of this ring that arrived during the exchange.
    func takeHeldWork() -> RingWork? {
        defer { held = nil }
        return held
    }

    // MARK: - RingLink

    /// Packed, even between processes on one machine: there the kernel's
    /// socket copies dominate the exchange, and halving the bytes pays for
    /// packing (2 workers over ipc://: 21,600-21,900 -> 22,500-22,700
    /// samples/s); `rawInt64` stays in the protocol for peers that do not pack.
    func sendSum(_ values: UnsafeBufferPointer<Int64>, round: Int, message: Int, nonFinite: Bool) throws {
        if try sentShared({ try shared.sendSum(values, message: message, step: step, nonFinite: nonFinite, limit: peerTimeout, idle: keepAlive) }) { return }
        let region = (message * regionWords)..<((message + 1) * regionWords)
        let size = try packed.write(region) { words in
            PackedInt64s.pack(values, into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: words[region])))
        }
        outgoing.refer(to: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(packed.lend(region))[0..<size]))
        try send(.ringChunk(RingChunk(
            generation: generation, step: step, phase: .reduceScatter, round: UInt32(round), chunk: UInt32(message),
            nonFinite: nonFinite, encoding: .packedInt64, valueCount: UInt32(values.count), link: tokens.right,
            values: outgoing)))
    }

    /// `body` over the path `route` names: a two-level member calls the
    /// same link for its host's ring and for the ring between hosts.
    func routed<T>(_ route: Route, _ body: () throws -> T) rethrows -> T {
        self.route = route
        defer { self.route = .automatic }
        return try body()
    }

    private var sendsShared: Bool { route != .sockets && shared.sendsShared }
    private var receivesShared: Bool { route != .sockets && shared.receivesShared }

    /// Over a socket, as steps from the weights before the step (about 2.5
    /// bytes a weight where Floats take 4): a piece received as steps goes
    /// on as it came; an owned piece, or one that came through shared
    /// memory, is packed from the weights kept before the step.
    func sendWeights(_ values: UnsafeBufferPointer<Float>, round: Int, message: Int) throws {
        if try sentShared({ try shared.sendWeights(values, message: message, step: step, limit: peerTimeout, idle: keepAlive) }) { return }
        var frame = outgoing
        var encoding = RingChunk.Encoding.weightSteps
        if let received = passOn[message] {
            passOn[message] = nil
            frame = received
        } else if keptBefore[message] {
            keptBefore[message] = false
            let region = (message * regionWords)..<((message + 1) * regionWords)
            let previous = UnsafeBufferPointer(rebasing: before[(message * regionFloats)..<(message * regionFloats + values.count)])
            let size = try packedSteps.write(region) { words in
                PackedInt64s.packWeightSteps(values, from: previous,
                                             into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: words[region])))
            }
            outgoing.refer(to: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(packedSteps.lend(region))[0..<size]))
        } else {
            encoding = .rawFloat
            outgoing.refer(to: UnsafeRawBufferPointer(values))
        }
        try send(.ringChunk(RingChunk(
            generation: generation, step: step, phase: .allGather, round: UInt32(round), chunk: UInt32(message),
            nonFinite: false, encoding: encoding, valueCount: UInt32(values.count), link: tokens.right,
            values: frame)))
    }

    func weightsWillChange(_ values: UnsafeBufferPointer<Float>, message: Int) {
        keepBefore(values, message: message)
    }

    func weightSendsSettled() { packedSteps.settle() }

    /// Keeps a piece's weights before the step, if it leaves by socket.
    private func keepBefore(_ values: UnsafeBufferPointer<Float>, message: Int) {
        guard !sendsShared, values.count <= regionFloats else { return }
        _ = UnsafeMutableBufferPointer(rebasing: before[(message * regionFloats)...]).update(fromContentsOf: values)
        keptBefore[message] = true
    }

    /// Whether the all-gather piece received in `round` is sent on.
    private func passesOn(round: Int) -> Bool { round < partition.rounds - 1 }

    func receiveSum(round: Int, message: Int, addingOnto sum: UnsafeMutableBufferPointer<Int64>) throws -> RingReceipt {
        if receivesShared {
            if sendTimedOut { return .stalled }
            let (outcome, nonFinite) = try shared.receiveSum(
                message: message, step: step, addingOnto: sum, limit: peerTimeout, idle: sharedIdle)
            return receipt(outcome, nonFinite: nonFinite)
        }
        guard let chunk = try receive(.reduceScatter, round: round, message: message, count: sum.count) else {
            return interruption == nil ? .stalled : .interrupted
        }
        chunk.add(into: sum)
        return .received(nonFinite: chunk.nonFinite)
    }

    func receiveWeights(round: Int, message: Int, into weights: UnsafeMutableBufferPointer<Float>) throws -> RingReceipt {
        if receivesShared {
            if sendTimedOut { return .stalled }
            if passesOn(round: round) { keepBefore(UnsafeBufferPointer(weights), message: message) }
            return receipt(try shared.receiveWeights(message: message, step: step, into: weights, limit: peerTimeout, idle: sharedIdle),
                           nonFinite: false)
        }
        guard let chunk = try receive(.allGather, round: round, message: message, count: weights.count) else {
            return interruption == nil ? .stalled : .interrupted
        }
        if passesOn(round: round), !sendsShared {
            if chunk.encoding == .weightSteps {
                passOn[message] = try chunk.values.sharedCopy()
            } else {
                keepBefore(UnsafeBufferPointer(weights), message: message)
            }
        }
        chunk.writeWeights(into: weights)
        return .received(nonFinite: false)
    }

    /// 16 bytes fit in the frame itself (a libzmq very small message): no
    /// allocation, and nothing to keep alive after the send.
    func sendValue(_ value: SIMD2<UInt64>, round: Int, message: Int) throws {
        if try sentShared({ try shared.sendValue(value, message: message, step: step, limit: peerTimeout, idle: keepAlive) }) { return }
        try outgoing.reinitialise(size: 16)
        outgoing.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: value[0].littleEndian, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: value[1].littleEndian, toByteOffset: 8, as: UInt64.self)
        }
        try send(.ringChunk(RingChunk(
            generation: generation, step: step, phase: .valueExchange, round: UInt32(round), chunk: UInt32(message),
            nonFinite: false, encoding: .rawInt64, valueCount: UInt32(RingChunk.exchangedValueCount), link: tokens.right,
            values: outgoing)))
    }

    func receiveValue(round: Int, message: Int, into value: inout SIMD2<UInt64>) throws -> RingReceipt {
        if receivesShared {
            if sendTimedOut { return .stalled }
            let (outcome, received) = try shared.receiveValue(message: message, step: step, limit: peerTimeout, idle: sharedIdle)
            if outcome == .ready { value = received }
            return receipt(outcome, nonFinite: false)
        }
        guard let chunk = try receive(.valueExchange, round: round, message: message, count: RingChunk.exchangedValueCount) else {
            return interruption == nil ? .stalled : .interrupted
        }
        value = chunk.exchangedValue
        return .received(nonFinite: false)
    }

    // MARK: - Shared memory

    private var peerTimeout: UInt64 { UInt64(timing.peerTimeoutMilliseconds) * 1_000_000 }

    /// Where the member sums its shards: in the right neighbour's shared
    /// inbox when there is one (its reduce-scatter pieces then need no
    /// copy), nil for its own buffer.
    func sharedSumStorage() throws -> UnsafeMutableBufferPointer<Int64>? {
        guard shared.sendsShared else { return nil }
        return try shared.sumStorage(limit: peerTimeout, idle: keepAlive)
    }

    /// Sends through shared memory when the link to the right is shared
    /// (true: handled there); a send the neighbour does not take in time
    /// stalls the step, as a socket's send timeout does.
    private func sentShared(_ send: () throws -> Bool) rethrows -> Bool {
        guard sendsShared else { return false }
        if !sendTimedOut, try !send() {
            output.log("worker: the right neighbour took no ring traffic from shared memory within \(timing.peerTimeoutMilliseconds) ms in step \(step); telling the coordinator")
            sendTimedOut = true
        }
        return true
    }

    private func keepAlive() { heartbeat?.keepAlive() }

    /// Between naps on the shared memory: heartbeats, the coordinator's
    /// messages, and the socket inbox, which no neighbour of this ring
    /// uses: whatever waits there is checked (a wrong token is logged) and
    /// dropped, so no one can fill it unseen.
    private func sharedIdle() throws -> Bool {
        heartbeat?.keepAlive()
        // Two levels: the ring between hosts uses the socket inbox, and its
        // pieces may come while this member still works in its host's ring.
        while !twoLevel, try receiveDropping(on: inbox, into: inboxFrames, from: "the ring inbox") {
            // No piece is due here (-1): each is logged as what it is, or kept if it is a newer ring's.
            _ = accept(inboxFrames.received, phase: .reduceScatter, round: -1, message: -1, count: -1)
        }
        return try watchCoordinator()
    }

    private func receipt(_ outcome: SharedRingPath.Wait, nonFinite: Bool) -> RingReceipt {
        switch outcome {
        case .ready: return .received(nonFinite: nonFinite)
        case .stopped: return .interrupted
        case .timedOut:
            output.log("worker: no ring traffic for over \(timing.peerTimeoutMilliseconds) ms in step \(step); telling the coordinator")
            return .stalled
        }
    }

    // MARK: - Traffic

    /// The outbox queues without blocking while the neighbour's pipe has
    /// room; a send that finds it full waits at most the socket's send
    /// timeout (`ZMQSocket.defaultSendTimeoutMilliseconds`). A timeout means
    /// the right neighbour takes nothing: the step stalls (reported to the
    /// coordinator, which forms a new ring) instead of the error ending this
    /// worker, which is not at fault.
    private func send(_ message: WireMessage) throws {
        guard let outbox, !sendTimedOut else { return }
        do {
            try sender.send(message, on: outbox)
        } catch let error as ZMQError where error.isWouldBlock {
            output.log("worker: the right neighbour took no ring traffic within the send timeout in step \(step); telling the coordinator")
            sendTimedOut = true
        }
    }

    /// The piece due, or nil when the exchange ends (`interruption` set) or stalls.
    private func receive(_ phase: RingChunk.Phase, round: Int, message: Int, count: Int) throws -> RingChunk? {
        if sendTimedOut { return nil }
        let limit = UInt64(timing.peerTimeoutMilliseconds) * 1_000_000
        let lastHeard = monotonicNanoseconds()
        let (fromLeft, fromCoordinator) = (0, 1)
        while true {
            heartbeat?.keepAlive()
            let ready = try poller.wait(timeoutMilliseconds: timing.heartbeatMilliseconds)
            if ready.contains(fromCoordinator), try watchCoordinator() { return nil }
            // Traffic that came ahead of its ring or step, first.
            if let index = ahead.firstIndex(where: isDue) {
                let frames = ahead.remove(at: index)
                if let chunk = accept(frames[...], phase: phase, round: round, message: message, count: count) { return chunk }
                continue
            }
            if ready.contains(fromLeft), try receiveDropping(on: inbox, into: inboxFrames, from: "the ring inbox") {
                let chunk = accept(inboxFrames.received, phase: phase, round: round, message: message, count: count)
                // Anything but the piece due (junk, stale or early traffic)
                // does not count as hearing from the neighbour.
                if let chunk { return chunk }
                continue
            }
            if monotonicNanoseconds() - lastHeard > limit {
                output.log("worker: no ring traffic for over \(timing.peerTimeoutMilliseconds) ms in step \(step); telling the coordinator")
                return nil
            }
        }
    }

    /// Takes the coordinator's next message if one waits; true when it ends
    /// the exchange (kept as `interruption`). Heartbeats pass, and the next
    /// step's work sent ahead is kept for when this one is done.
    private func watchCoordinator() throws -> Bool {
        guard try receiveDropping(on: coordinator, into: coordinatorFrames, from: "the coordinator") else { return false }
        let frames = coordinatorFrames.received
        switch try? WireMessage.decode(frames, limits: limits) {
        case .heartbeat?:
            return false
        case .ringWork(let work)? where work.generation == generation && work.step > step:
            held = work
            return false
        default:
            interruption = Array(frames)
            return true
        }
    }

    /// One message if one waits; a message with more or larger frames than
    /// its kind has was released frame by frame as it arrived, and is logged
    /// here instead of ending the worker.
    private func receiveDropping(on socket: ZMQSocket, into frames: ZMQFrames, from source: String) throws -> Bool {
        do {
            return try socket.tryReceive(into: frames, headerIndex: 0, allowance: limits)
        } catch let error as ZMQError where error.isOversized {
            reject("from \(source): \(error.message)")
            return false
        }
    }

    /// The chunk this round expects, or nil (logged unless merely stale).
    private func accept(
        _ frames: ArraySlice<ZMQMessage>, phase: RingChunk.Phase, round: Int, message: Int, count expected: Int
    ) -> RingChunk? {
        let received: RingChunk
        do {
            guard case .ringChunk(let decoded) = try WireMessage.decode(frames, limits: limits) else {
                reject("a message that is not a ring chunk")
                return nil
            }
            received = decoded
        } catch {
            reject("\(error)")
            return nil
        }
        // Earlier rings and steps leave traffic behind when a ring is re-formed.
        if received.generation < generation || (received.generation == generation && received.step < step) {
            return nil
        }
        // This ring's chunks carry the left link's token; only a newer ring's
        // (whose token is not known yet) are kept unchecked, and checked when due.
        guard received.generation > generation || received.link == tokens.left else {
            reject("ring chunk of generation \(received.generation), step \(received.step) with the wrong link token: not from the left neighbour; dropped")
            return nil
        }
        // A neighbour already in a newer ring, whose setup for this member
        // is on its way from the coordinator: kept for then, not lost.
        if received.generation > generation || received.step > step {
            guard ahead.count < aheadCap else {
                reject("ring chunk of generation \(received.generation), step \(received.step) beyond the \(aheadCap) kept ahead")
                return nil
            }
            ahead.append(Array(frames))
            return nil
        }
        guard received.phase == phase, Int(received.round) == round, Int(received.chunk) == message,
              Int(received.valueCount) == expected else {
            reject("ring chunk (generation \(received.generation), step \(received.step), \(received.phase) round \(received.round), chunk \(received.chunk), \(received.valueCount) values) where generation \(generation), step \(step), \(phase) round \(round), chunk \(message), \(expected) values was due")
            return nil
        }
        return received
    }

    /// Whether kept-back traffic belongs to this ring and step.
    private func isDue(_ frames: [ZMQMessage]) -> Bool {
        guard case .ringChunk(let chunk)? = try? WireMessage.decode(frames, limits: limits) else { return false }
        return chunk.generation == generation && chunk.step == step
    }

    private func reject(_ reason: String) {
        rejected += 1
        output.log("worker: rejected ring message #\(rejected): \(reason)")
    }
}
