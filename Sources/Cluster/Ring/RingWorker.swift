import Clock
import Collective
import MLP
import Training
import Wire

/// A worker's part in the ring collective. It holds the whole weights and
/// the momentum of the one slice it owns; per step it sums its own
/// micro-shards, then runs RingAllReduce with its neighbours over a
/// ZeroMQRingLink, and tells the coordinator how it went.
///
/// A step whose traffic stops, or a coordinator message other than a
/// heartbeat, ends the exchange at once: the coordinator then re-forms the
/// ring from a snapshot, so a member never has to guess which half-finished
/// state is right.
public final class RingWorker: WorkerCollective {
    /// What to do with a step's work when it arrives.
    enum Admission {
        case run
        /// Work sent ahead, for after the step now under way.
        case hold
        case ignore
    }

    private let computer: ShardGradientComputer
    private let link: ZeroMQRingLink
    private let output: Output
    private var allReduce: Reduction?
    private var generation: UInt64 = 0
    /// The step the weights are ready to take: the setup's, then one past
    /// each step this member updated.
    private var nextStep: UInt64 = 0
    /// False once a step was abandoned midway: the weights may then be half
    /// updated, and only a new setup makes them right again.
    private var consistent = false
    /// Whether the last step ended without an all-gather (not finite).
    private var packingUnsettled = false
    /// A later step's work that arrived while this one was under way.
    private var held: RingWork?
    private let weights: LendableBuffer<Float>
    private let sum: GradientSum
    private let mean: UnsafeMutableBufferPointer<Float>
    /// One shard computed alone, to be digested (verified gradients).
    private lazy var shardSum = GradientSum(parameterCount: weights.count)
    private var digests: [ShardDigest] = []
    /// A test hook only (`worker --lie-offset`): added to every fixed-point
    /// value of this member's sum and of every shard it digests, to play a
    /// worker that lies (consistently, as a faulty core would).
    private let lieOffset: Int64

    /// `coordinator` is watched while waiting for ring traffic; `listen` is
    /// where the left neighbour will connect.
    public init(
        computer: ShardGradientComputer, limits: DecodingLimits, listen: String, coordinator: ZMQSocket,
        timing: ClusterSettings, curve: CurveKeyPair? = nil, lieOffset: Int64 = 0, output: Output
    ) throws {
        self.computer = computer
        self.output = output
        self.lieOffset = lieOffset
        link = try ZeroMQRingLink(
            listen: listen, coordinator: coordinator, limits: limits, timing: timing, curve: curve, output: output)
        let count = computer.architecture.parameterCount
        weights = LendableBuffer(count: count, repeating: 0)
        sum = GradientSum(parameterCount: count)
        mean = .allocate(capacity: count)
    }

    deinit { mean.deallocate() }

    /// Where the left neighbour reaches this member.
    public var endpoint: String { link.endpoint }

    /// What this member tells the coordinator: where its left neighbour
    /// reaches it, over sockets and, on the same host, in shared memory.
    public func address(publicKey: CurveKey?) -> RingAddress {
        guard let prefix = link.sharedInboxPrefix else { return RingAddress(endpoint: endpoint, publicKey: publicKey) }
        return RingAddress(endpoint: endpoint, publicKey: publicKey, host: HostIdentity.current(), sharedInboxPrefix: prefix)
    }

    /// This member's fixed-point sum of its own shards: what the all-reduce reduces.
    public var localSum: GradientSum { sum }

    /// The whole weights as this member holds them.
    public var currentWeights: UnsafeBufferPointer<Float> { weights.readOnly }

    // MARK: - WorkerCollective

    func handle(_ message: WireMessage, for worker: Worker) throws -> [ZMQMessage]? {
        link.heartbeat = worker
        switch message {
        case .ringSetup(let setup):
            try setUp(setup)
        case .ringWork(let work):
            // Work sent ahead waits its turn; each step done may free the next.
            var next = admit(work) == .run ? work : nil
            while let current = next {
                next = nil
                guard let done = try run(current) else { return link.interruption }
                try worker.send(.ringDone(done))
                next = takeHeld()
            }
        case .stateRequest(let request):
            if let slice = try stateSlice(for: request) {
                try worker.send(slice)
            } else if cannotGive(request) {
                // Half way through a step sent ahead, or past the one asked about.
                try worker.send(.ringDone(RingDone(
                    generation: request.generation, step: request.step, status: .stalled,
                    lossSumFixedPoint: 0, correct: 0, sampleCount: 0, computeNanoseconds: 0)))
            }
        default:
            output.log("worker: ignoring unexpected \(message.kind)")
        }
        return nil
    }

    // MARK: - Forming the ring

    /// One flat ring of every member, or two levels: a ring inside each
    /// host and rings between hosts.
    private enum Reduction {
        case flat(RingAllReduce)
        case twoLevel(TwoLevelAllReduce, local: RoutedRingLink, between: RoutedRingLink)

        var owned: Range<Int> {
            switch self {
            case .flat(let ring): ring.owned
            case .twoLevel(let levels, _, _): levels.owned
            }
        }

        var optimiser: Optimiser {
            switch self {
            case .flat(let ring): ring.optimiser
            case .twoLevel(let levels, _, _): levels.optimiser
            }
        }
    }

    public func setUp(_ setup: RingSetup) throws {
        // The sum may live in the old ring's shared memory, which goes now.
        sum.reset()
        let (rank, size, hostSize) = (Int(setup.rank), Int(setup.size), Int(setup.hostSize))
        let layout = hostSize == 0 ? nil : TwoLevelLayout(parameterCount: weights.count, hosts: size / hostSize, perHost: hostSize)
        let partition = layout.map { $0.hostRing(localRank: $0.localRank(of: rank)) }
            ?? RingPartition(parameterCount: weights.count, size: size)
        let owned = layout?.owned(rank: rank) ?? partition.owned(rank: rank)
        guard owned == Int(setup.ownedStart)..<Int(setup.ownedStart + setup.ownedCount) else {
            throw ClusterError.incompatibleCoordinator(
                "its ring setup gives rank \(setup.rank) of \(setup.size) the slice \(setup.ownedStart)+\(setup.ownedCount), this worker computes \(owned)")
        }
        try link.connect(
            rightNeighbour: setup.rightNeighbour, keys: (right: setup.rightNeighbourKey, left: setup.leftNeighbourKey),
            tokens: (left: setup.leftLinkToken, right: setup.rightLinkToken), partition: partition, generation: setup.generation,
            segments: (inbox: setup.inboxSegment, outbox: setup.outboxSegment),
            inHost: layout.map { (partition: $0.local, tokens: (left: setup.sharedLeftToken, right: setup.sharedRightToken)) })
        // The old ring's sends of these weights went to a ring that is gone:
        // whatever they carry now, its members take a new setup first.
        weights.settle()
        try weights.write { all in setup.weights.withUnsafeElements(of: Float.self) { _ = all.update(fromContentsOf: $0) } }
        let optimiser = makeOptimiser(parameterCount: owned.count, settings: setup.optimiser)
        setup.velocity.withUnsafeElements(of: Float.self) { _ = optimiser.state.values.update(fromContentsOf: $0) }
        let clipping = GradientClipping(maxNorm: setup.clipNorm > 0 ? setup.clipNorm : nil,
                                        maxValue: setup.clipValue > 0 ? setup.clipValue : nil)
        if let layout {
            guard clipping.maxNorm == nil else {
                throw ClusterError.incompatibleCoordinator("its ring setup asks for two levels with clipping by norm, which needs one flat ring")
            }
            allReduce = .twoLevel(TwoLevelAllReduce(layout: layout, rank: rank, optimiser: optimiser, clipping: clipping),
                                  local: RoutedRingLink(link, route: .sharedMemory), between: RoutedRingLink(link, route: .sockets))
        } else {
            allReduce = .flat(RingAllReduce(partition: partition, rank: rank, optimiser: optimiser, clipping: clipping))
        }
        generation = setup.generation
        nextStep = setup.step
        consistent = true
        packingUnsettled = false
        held = nil
        let sharing = [setup.inboxSegment.isEmpty ? nil : "from the left", setup.outboxSegment.isEmpty ? nil : "to the right"].compactMap { $0 }
        let levels = layout.map { "; two levels: member \($0.localRank(of: rank) + 1) of \($0.perHost) on host \($0.host(of: rank) + 1) of \($0.hosts), to the next host" } ?? ""
        output.info("worker: ring generation \(setup.generation): rank \(setup.rank) of \(setup.size), owns parameters \(owned)\(levels), sends to \(setup.rightNeighbour)"
            + (sharing.isEmpty ? "" : "; shared memory \(sharing.joined(separator: " and "))"))
    }

    /// The owned slice of weights and momentum, for the coordinator's snapshot.
    func stateSlice(for request: StateRequest) throws -> WireMessage? {
        guard let allReduce, request.generation == generation, consistent, request.step == nextStep else { return nil }
        let owned = allReduce.owned
        let slice = StateSlice(
            generation: generation, step: request.step, start: UInt64(owned.lowerBound), count: UInt64(owned.count),
            planes: UInt8(allReduce.optimiser.settings.statePlanes),
            weights: try ZMQMessage(copying: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: weights.readOnly[owned]))),
            velocity: try ZMQMessage(copying: UnsafeRawBufferPointer(allReduce.optimiser.state.readOnly)))
        return .stateSlice(slice)
    }

    // MARK: - One step

    /// Whether `work` is for the step the weights are ready to take, a later
    /// one sent ahead, or stale.
    func admit(_ work: RingWork) -> Admission {
        guard allReduce != nil, work.generation == generation, consistent, work.step >= nextStep else { return .ignore }
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
        guard allReduce != nil, request.generation == generation else { return false }
        return !consistent || request.step != nextStep
    }

    /// Computes the step's shards and takes part in the all-reduce; nil if
    /// the coordinator interrupted it (`link.interruption`).
    func run(_ work: RingWork) throws -> RingDone? {
        if packingUnsettled {
            // Fresh work after a step that was not finite: every member finished it.
            link.settlePacking()
            packingUnsettled = false
        }
        let started = monotonicNanoseconds()
        sum.reset(storage: try link.sharedSumStorage())
        StepLaunchTrace.mark(.start, step: work.step)
        if let label = work.withLabels(computer.firstLabelOutOfRange) {
            // The ring cannot go on without this member's part: leave it, saying why.
            throw ClusterError.incompatibleCoordinator("its work for step \(work.step) holds label \(label), outside the network's \(computer.architecture.outputSize) outputs")
        }
        computeShards(work)
        if sum.isEmpty {
            // No shards this step: still a member, adding zeros.
            sum.values.update(repeating: 0)
        }
        if lieOffset != 0 { lie(sum.values) }
        let computeNanoseconds = monotonicNanoseconds() - started
        let lossFixed = StepTally(sum).lossFixed
        let outcome = try allReduce(step: work.step, batchSamples: Int(work.batchSamples), learningRate: work.learningRate)
        StepLaunchTrace.mark(.ready, step: work.step)
        if let later = link.takeHeldWork() { held = later }
        let status: RingDone.Status
        var gradientNorm: Double?
        switch outcome {
        case .updated(let norm):
            nextStep = work.step + 1
            status = .updated
            gradientNorm = norm
        case .nonFinite:
            packingUnsettled = true
            status = .nonFinite
        case .stalled:
            consistent = false
            status = .stalled
        case .interrupted:
            consistent = false
            return nil
        }
        return RingDone(
            generation: generation, step: work.step, status: status, lossSumFixedPoint: lossFixed,
            correct: UInt32(sum.correct), sampleCount: UInt32(sum.samples), computeNanoseconds: computeNanoseconds,
            gradientNorm: gradientNorm, digests: digests)
    }

    /// The all-reduce of the local sum, as the step's work starts it; also
    /// what the benchmark times on its own.
    public func allReduce(step: UInt64, batchSamples: Int, learningRate: Float) throws -> RingAllReduce.Outcome {
        guard let allReduce else { throw ClusterError.incompatibleCoordinator("ring work before any ring setup") }
        link.begin(step: step)
        let outcome: RingAllReduce.Outcome
        switch allReduce {
        case .flat(let ring):
            outcome = try ring.run(
                sum: sum, weights: weights, mean: mean, batchSamples: batchSamples, learningRate: learningRate,
                step: Int(step), link: link)
        case .twoLevel(let levels, let local, let between):
            outcome = try levels.run(
                sum: sum, weights: weights, mean: mean, batchSamples: batchSamples, learningRate: learningRate,
                step: Int(step), local: local, between: between)
        }
        if case .updated = outcome { link.settlePacking() }
        return outcome
    }

    /// The own shards onto `sum`; with shards to digest, each of those alone
    /// first (added onto `sum` if it is an own shard: fixed-point sums do
    /// not depend on the order or grouping of their parts).
    private func computeShards(_ work: RingWork) {
        let keepAlive = link.heartbeat
        digests.removeAll(keepingCapacity: true)
        let inputSize = computer.architecture.inputSize
        work.withPixels { pixels in
            work.withLabels { labels in
                guard !work.digested.isEmpty else {
                    return computer.addShards(
                        weights: weights.readOnly, pixels: pixels, labels: labels,
                        step: work.step, shards: work.shards.lazy.map { (id: Int($0.shardID), samples: Int($0.sampleCount)) }, into: sum,
                        betweenShards: { keepAlive?.keepAlive() })
                }
                // Own shards not digested go in runs, rounded onto the sum in groups as usual.
                var offset = 0
                var run = (shards: 0..<0, firstSample: 0)
                func addRun() {
                    guard !run.shards.isEmpty else { return }
                    let shards = run.shards.lazy.map { (id: Int(work.shards[$0].shardID), samples: Int(work.shards[$0].sampleCount)) }
                    let samples = shards.reduce(0) { $0 + $1.samples }, first = run.firstSample
                    computer.addShards(
                        weights: weights.readOnly,
                        pixels: UnsafeBufferPointer(rebasing: pixels[(first * inputSize)..<((first + samples) * inputSize)]),
                        labels: UnsafeBufferPointer(rebasing: labels[first..<(first + samples)]),
                        step: work.step, shards: shards, into: sum, betweenShards: { keepAlive?.keepAlive() })
                    run.shards = 0..<0
                }
                for (index, shard) in work.shards.enumerated() {
                    let samples = Int(shard.sampleCount)
                    defer { offset += samples }
                    let own = index < work.ownCount
                    guard work.isDigested(index) else {
                        // The decoder made sure every shard past the own ones is digested.
                        run = run.shards.isEmpty ? (index..<(index + 1), offset) : (run.shards.lowerBound..<(index + 1), run.firstSample)
                        continue
                    }
                    addRun()
                    shardSum.reset()
                    computer.addShards(
                        weights: weights.readOnly,
                        pixels: UnsafeBufferPointer(rebasing: pixels[(offset * inputSize)..<((offset + samples) * inputSize)]),
                        labels: UnsafeBufferPointer(rebasing: labels[offset..<(offset + samples)]),
                        step: work.step, shards: CollectionOfOne((id: Int(shard.shardID), samples: samples)), into: shardSum, betweenShards: { keepAlive?.keepAlive() })
                    if own { add(shardSum, onto: sum) }
                    if lieOffset != 0 { lie(shardSum.values) }
                    digests.append(ShardDigest(shardID: shard.shardID, hash: SumDigest.of(shardSum)))
                }
                addRun()
            }
        }
    }

    private func add(_ part: GradientSum, onto total: GradientSum) {
        let tally = StepTally(part)
        total.addPartial(lossFixed: tally.lossFixed, correct: tally.correct, samples: tally.samples, shards: 1) { target, overwrite in
            if overwrite {
                _ = target.update(fromContentsOf: part.values)
            } else {
                for index in target.indices { target[index] &+= part.values[index] }
            }
        }
    }

    private func lie(_ values: UnsafeMutableBufferPointer<Int64>) {
        for index in values.indices { values[index] &+= lieOffset }
    }
}

extension RingSetup {
    /// The optimiser the coordinator runs, for this member's slice. The
    /// learning rate comes with each step's work.
    var optimiser: OptimiserSettings {
        OptimiserSettings(
            kind: OptimiserKind.allCases[Int(optimiserKind)], learningRate: 0, momentum: momentum, nesterov: nesterov,
            weightDecay: weightDecay, beta1: beta1, beta2: beta2, epsilon: epsilon)
    }
}
