import Collective
import Foundation
import MLP
import Wire

/// A worker's part in the ring collective. It holds the whole weights and
/// the momentum of the one slice it owns; per step it sums its own
/// micro-shards, reduce-scatters the sums with its neighbours, updates its
/// slice with SGD, and all-gathers the slices the others updated.
///
/// Ring traffic arrives on `inbox` (bound here) from the left neighbour and
/// leaves through `outbox` (connected to the right one). A step whose
/// traffic stops, or a coordinator message other than a heartbeat, ends the
/// exchange at once: the coordinator then re-forms the ring from a snapshot,
/// so a member never has to guess which half-finished state is right.
public final class RingMember {
    /// What to do with a step's work when it arrives.
    enum Admission {
        case run
        /// Work sent ahead, for after the step now under way.
        case hold
        case ignore
    }

    public enum Outcome {
        case done(RingDone)
        /// The coordinator said something that ends the exchange (a new ring, a
        /// shutdown, ...): these frames are for the caller to handle.
        case interrupted([ZMQMessage])
    }

    struct Ring {
        let generation: UInt64
        let rank: Int
        let partition: RingPartition
        let owned: Range<Int>
        let optimiser: SGD
    }

    public let endpoint: String
    private let computer: ShardGradientComputer
    let limits: DecodingLimits
    let settings: ClusterSettings
    let log: (String) -> Void
    let inbox: ZMQSocket
    var outbox: ZMQSocket?
    private var outboxTarget = ""
    var ring: Ring?
    /// The step the weights are ready to take: the setup's, then one past
    /// each step this member updated.
    private var nextStep: UInt64 = 0
    /// False once a step was abandoned midway: the weights may then be half
    /// updated, and only a new setup makes them right again.
    private var consistent = false
    /// A later step's work that arrived while this one was under way.
    var held: RingWork?
    private let weights: UnsafeMutableBufferPointer<Float>
    private let sum: GradientSum
    private let mean: UnsafeMutableBufferPointer<Float>
    /// Packed reduce-scatter chunks, each in a region of its own (sized at ring setup).
    private var packed = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var packedChunkBytes = 0
    /// The frame each bulk send refers to its bytes through.
    private let outgoing = ZMQMessage()
    let sender = WireSender()
    var rejected = 0
    // Reused step after step, so the exchange allocates nothing of its own.
    var poller: ZMQPoller?
    var pollerCoordinator: ZMQSocket?
    let inboxFrames = ZMQFrames()
    let coordinatorFrames = ZMQFrames()
    /// Ring traffic that arrived before its ring or step (rare: a ring being re-formed).
    var ahead: [[ZMQMessage]] = []

    public init(
        computer: ShardGradientComputer, limits: DecodingLimits, listen: String, settings: ClusterSettings,
        log: @escaping (String) -> Void
    ) throws {
        self.computer = computer
        self.limits = limits
        self.settings = settings
        self.log = log
        let count = computer.architecture.parameterCount
        inbox = try ZMQSocket(context: .shared(), kind: .pull)
        try inbox.setKernelBufferSizes(bytes: 4 << 20)
        try inbox.setMaxMessageSize(limits.largestFrameBytes)
        let bound: String
        do {
            bound = try inbox.bind(listen)
        } catch let error as ZMQError {
            throw ClusterError.cannotListen(endpoint: listen, reason: error.message)
        }
        endpoint = RingEndpoint.advertised(bound: bound)
        weights = .allocate(capacity: count)
        weights.initialize(repeating: 0)
        sum = GradientSum(parameterCount: count)
        mean = .allocate(capacity: count)
    }

    deinit {
        inbox.close()
        outbox?.close()
        // libzmq leaves a Unix socket's file behind when it closes.
        if endpoint.hasPrefix("ipc://") { unlink(String(endpoint.dropFirst("ipc://".count))) }
        weights.deallocate()
        mean.deallocate()
        packed.deallocate()
    }

    // MARK: - Forming the ring

    public func setUp(_ setup: RingSetup) throws {
        let partition = RingPartition(parameterCount: weights.count, size: Int(setup.size))
        let owned = partition.owned(rank: Int(setup.rank))
        guard owned == Int(setup.ownedStart)..<Int(setup.ownedStart + setup.ownedCount) else {
            throw ClusterError.incompatibleCoordinator(
                "its ring setup gives rank \(setup.rank) of \(setup.size) the slice \(setup.ownedStart)+\(setup.ownedCount), this worker computes \(owned)")
        }
        setup.weights.withUnsafeElements(of: Float.self) { _ = weights.update(fromContentsOf: $0) }
        let optimiser = SGD(parameterCount: owned.count, settings: SGDSettings(
            learningRate: 0, momentum: setup.momentum, nesterov: setup.nesterov, weightDecay: setup.weightDecay))
        setup.velocity.withUnsafeElements(of: Float.self) { _ = optimiser.velocity.values.update(fromContentsOf: $0) }
        if setup.rightNeighbour != outboxTarget || outbox == nil {
            outbox?.close()
            let socket = try ZMQSocket(context: .shared(), kind: .push)
            try socket.setKernelBufferSizes(bytes: 4 << 20)
            try socket.connect(setup.rightNeighbour)
            outbox = socket
            outboxTarget = setup.rightNeighbour
        }
        // A packing region per piece of every chunk, each big enough for the largest piece.
        let messages = partition.size * partition.pieces
        let largestPiece = (0..<messages).map { partition.piece($0 % partition.pieces, of: $0 / partition.pieces).count }.max() ?? 0
        let chunkBytes = PackedInt64s.largestPackedSize(count: largestPiece)
        if packed.count < chunkBytes * messages {
            packed.deallocate()
            packed = .allocate(byteCount: chunkBytes * messages, alignment: 64)
        }
        packedChunkBytes = chunkBytes
        nextStep = setup.step
        consistent = true
        held = nil
        ahead.removeAll { frames in
            guard case .ringChunk(let chunk)? = try? WireMessage.decode(frames, limits: limits) else { return true }
            return chunk.generation < setup.generation
        }
        ring = Ring(generation: setup.generation, rank: Int(setup.rank), partition: partition, owned: owned,
                    optimiser: optimiser)
        log("worker: ring generation \(setup.generation): rank \(setup.rank) of \(setup.size), owns parameters \(owned), sends to \(setup.rightNeighbour)")
    }

    /// The owned slice of weights and momentum, for the coordinator's snapshot.
    func stateSlice(for request: StateRequest) throws -> [ZMQMessage]? {
        guard let ring, request.generation == ring.generation, consistent, request.step == nextStep else { return nil }
        let slice = StateSlice(
            generation: ring.generation, step: request.step, start: UInt64(ring.owned.lowerBound),
            count: UInt64(ring.owned.count),
            weights: try ZMQMessage(copying: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(weights)[ring.owned.lowerBound * 4..<ring.owned.upperBound * 4])),
            velocity: try ZMQMessage(copying: UnsafeRawBufferPointer(ring.optimiser.velocity.values)))
        return try WireMessage.stateSlice(slice).encode()
    }

    /// This member's fixed-point sum of its own shards: what `allReduce` reduces.
    public var localSum: GradientSum { sum }

    /// The whole weights as this member holds them.
    public var currentWeights: UnsafeBufferPointer<Float> { UnsafeBufferPointer(weights) }

    // MARK: - One step

    /// Whether `work` is for the step the weights are ready to take, a later
    /// one sent ahead, or stale.
    func admit(_ work: RingWork) -> Admission {
        guard let ring, work.generation == ring.generation, consistent, work.step >= nextStep else { return .ignore }
        if work.step == nextStep { return .run }
        held = work
        return .hold
    }

    /// Held work whose turn has come.
    func takeHeld() -> RingWork? {
        guard let work = held, admit(work) == .run else { return nil }
        held = nil
        return work
    }

    /// Whether the coordinator asked for state this member cannot give.
    func cannotGive(_ request: StateRequest) -> Bool {
        guard let ring, request.generation == ring.generation else { return false }
        return !consistent || request.step != nextStep
    }

    /// `coordinator` is watched while waiting for ring traffic; `keepAlive`
    /// sends the coordinator a heartbeat when one is due.
    func run(_ work: RingWork, coordinator: ZMQSocket, keepAlive: () -> Void) throws -> Outcome? {
        guard let ring, work.generation == ring.generation else {
            log("worker: ring work for generation \(work.generation) outside the current ring; ignored")
            return nil
        }
        let started = monotonicNanoseconds()
        sum.reset()
        computeShards(work, betweenShards: keepAlive)
        if sum.isEmpty {
            // No shards this step: still a member, adding zeros.
            sum.values.update(repeating: 0)
        }
        let computeNanoseconds = monotonicNanoseconds() - started
        let lossFixed = sum.finite ? sum.lossFixed : FixedPoint.nonFiniteLoss
        let status: RingDone.Status
        switch try allReduce(
            step: work.step, batchSamples: Int(work.batchSamples), learningRate: work.learningRate,
            coordinator: coordinator, keepAlive: keepAlive) {
        case .finished(let finished): status = finished
        case .interrupted(let frames):
            consistent = false
            return .interrupted(frames)
        }
        switch status {
        case .updated: nextStep = work.step + 1
        case .nonFinite: break
        case .stalled: consistent = false
        }
        return .done(RingDone(
            generation: ring.generation, step: work.step, status: status, lossSumFixedPoint: lossFixed,
            correct: UInt32(sum.correct), sampleCount: UInt32(sum.samples), computeNanoseconds: computeNanoseconds))
    }

    public enum AllReduceOutcome {
        case finished(RingDone.Status)
        case interrupted([ZMQMessage])
    }

    /// The collective itself, on the local sum: reduce-scatter, SGD on the
    /// owned slice, all-gather. Afterwards (if `.finished(.updated)`) the
    /// weights are the step's result on every member. The sum is consumed:
    /// it holds partial and whole chunk sums afterwards, not this member's own.
    ///
    /// Every chunk travels in pieces, and each piece moves on as soon as it
    /// is ready: added and passed on in the reduce-scatter, updated and sent
    /// out as soon as its sum is whole, copied and passed on in the
    /// all-gather. So the wire, the adding and the update overlap.
    public func allReduce(
        step: UInt64, batchSamples: Int, learningRate: Float, coordinator: ZMQSocket, keepAlive: () -> Void
    ) throws -> AllReduceOutcome {
        precondition(batchSamples > 0, "a step averages over at least one sample")
        guard let ring else { throw ClusterError.incompatibleCoordinator("ring work before any ring setup") }
        let exchange = Exchange(member: self, ring: ring, step: step, coordinator: coordinator)
        let partition = ring.partition, rank = ring.rank, pieces = partition.pieces
        let owned = partition.ownedChunk(rank: rank)
        // The non-finite flag travels with each piece, so the owner of a whole
        // sum knows whether any member's gradient failed. Every piece passes
        // every member, so all pieces and all members agree on it.
        let localNonFinite = !sum.finite
        var nonFinite = localNonFinite

        func update(_ piece: Int) throws {
            updateOwned(partition.piece(piece, of: owned), ring: ring, batchSamples: batchSamples, learningRate: learningRate)
            if partition.rounds > 0 { try exchange.send(gathered(owned, piece, round: 0, ring: ring, step: step)) }
        }

        if partition.rounds == 0 {
            if nonFinite { return .finished(.nonFinite) }
            for piece in 0..<pieces { try update(piece) }
            return .finished(.updated)
        }
        let first = partition.reduceScatterSend(rank: rank, round: 0)
        for piece in 0..<pieces {
            try exchange.send(reduced(first, piece, round: 0, ring: ring, step: step, nonFinite: localNonFinite))
        }
        for round in 0..<partition.rounds {
            let chunk = partition.reduceScatterReceive(rank: rank, round: round)
            let last = round == partition.rounds - 1
            for piece in 0..<pieces {
                let range = partition.piece(piece, of: chunk)
                switch try exchange.receive(.reduceScatter, round: round, chunk: partition.messageIndex(chunk: chunk, piece: piece),
                                            count: range.count, keepAlive: keepAlive) {
                case .chunk(let received):
                    received.add(into: UnsafeMutableBufferPointer(rebasing: sum.values[range]))
                    nonFinite = received.nonFinite || localNonFinite
                case .interrupted(let frames): return .interrupted(frames)
                case .stalled: return .finished(.stalled)
                }
                if !last {
                    try exchange.send(reduced(chunk, piece, round: round + 1, ring: ring, step: step, nonFinite: nonFinite))
                } else if !nonFinite {
                    try update(piece)
                }
            }
        }
        if nonFinite { return .finished(.nonFinite) }
        for round in 0..<partition.rounds {
            let chunk = partition.allGatherReceive(rank: rank, round: round)
            for piece in 0..<pieces {
                let range = partition.piece(piece, of: chunk)
                switch try exchange.receive(.allGather, round: round, chunk: partition.messageIndex(chunk: chunk, piece: piece),
                                            count: range.count, keepAlive: keepAlive) {
                case .chunk(let received):
                    received.copyFloats(into: UnsafeMutableBufferPointer(rebasing: weights[range]))
                case .interrupted(let frames): return .interrupted(frames)
                case .stalled: return .finished(.stalled)
                }
                if round < partition.rounds - 1 {
                    try exchange.send(gathered(chunk, piece, round: round + 1, ring: ring, step: step))
                }
            }
        }
        return .finished(.updated)
    }

    /// SGD on the whole sums of `range`, part of the owned slice.
    private func updateOwned(_ range: Range<Int>, ring: Ring, batchSamples: Int, learningRate: Float) {
        let base = ring.owned.lowerBound
        applyAveragedUpdate(
            sums: UnsafeBufferPointer(rebasing: sum.values[ring.owned]), sampleCount: batchSamples,
            range: (range.lowerBound - base)..<(range.upperBound - base), optimiser: ring.optimiser,
            parameters: UnsafeMutableBufferPointer(rebasing: weights[ring.owned]),
            mean: UnsafeMutableBufferPointer(rebasing: mean[0..<ring.owned.count]), learningRate: learningRate)
    }

    private func computeShards(_ work: RingWork, betweenShards: () -> Void) {
        work.withPixels { pixels in
            work.withLabels { labels in
                computer.addShards(
                    weights: UnsafeBufferPointer(weights), pixels: pixels, labels: labels,
                    sampleCounts: work.shards.lazy.map { Int($0.sampleCount) }, into: sum, betweenShards: betweenShards)
            }
        }
    }

    /// A reduce-scatter piece of the running sum, packed, even between
    /// processes on one machine: there the kernel's socket copies dominate
    /// the exchange, and halving the bytes pays for packing (2 workers over
    /// ipc://: 21,600-21,900 -> 22,500-22,700 samples/s); `rawInt64` stays in
    /// the protocol for peers that do not pack. The frame refers to the
    /// piece's own region of the packing buffer: nothing writes there again before
    /// the right neighbour has it, because it needs this piece to finish the
    /// reduce-scatter, and this member's step ends only with pieces that
    /// neighbour sends after finishing it.
    private func reduced(_ chunk: Int, _ piece: Int, round: Int, ring: Ring, step: UInt64, nonFinite: Bool) -> WireMessage {
        let range = ring.partition.piece(piece, of: chunk)
        let values = UnsafeBufferPointer(rebasing: sum.values[range])
        let index = ring.partition.messageIndex(chunk: chunk, piece: piece)
        let region = UnsafeMutableRawBufferPointer(rebasing: packed[(index * packedChunkBytes)..<((index + 1) * packedChunkBytes)])
        let size = PackedInt64s.pack(values, into: region)
        outgoing.refer(to: UnsafeRawBufferPointer(rebasing: region[0..<size]))
        return .ringChunk(RingChunk(
            generation: ring.generation, step: step, phase: .reduceScatter, round: UInt32(round),
            chunk: UInt32(index), nonFinite: nonFinite,
            encoding: .packedInt64, valueCount: UInt32(range.count), values: outgoing))
    }

    /// An all-gather piece: the weights themselves, without a copy. They
    /// change next only after the next step's reduce-scatter, which the right
    /// neighbour can only join once it has received everything sent here.
    private func gathered(_ chunk: Int, _ piece: Int, round: Int, ring: Ring, step: UInt64) -> WireMessage {
        let range = ring.partition.piece(piece, of: chunk)
        outgoing.refer(to: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: weights[range])))
        return .ringChunk(RingChunk(
            generation: ring.generation, step: step, phase: .allGather, round: UInt32(round),
            chunk: UInt32(ring.partition.messageIndex(chunk: chunk, piece: piece)), nonFinite: false,
            encoding: .rawFloat, valueCount: UInt32(range.count), values: outgoing))
    }
}
