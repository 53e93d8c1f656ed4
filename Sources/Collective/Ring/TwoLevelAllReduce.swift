import MLP

/// The hierarchical all-reduce of one member (`TwoLevelLayout`), in three
/// phases:
///
/// 1. reduce-scatter inside the host (`local` link, shared memory): the
///    member then holds its host's sum of one local chunk;
/// 2. a whole ring all-reduce of that chunk between hosts (`between` link,
///    the network), one member of each host taking part: the owners update
///    their slices and all-gather the new weights (`RingAllReduce`);
/// 3. all-gather inside the host: every member gets the other local chunks.
///
/// Fixed-point sums do not depend on the order they are added in, so the
/// weights are bit for bit those of one flat ring, or of one process.
/// Clipping by norm needs the whole gradient's norm, which no member sees
/// here: the coordinator forms a flat ring for it instead.
public struct TwoLevelAllReduce {
    public let layout: TwoLevelLayout
    public let rank: Int
    /// The ring between hosts, over this member's local chunk.
    public let betweenHosts: RingAllReduce

    public init(layout: TwoLevelLayout, rank: Int, optimiser: Optimiser, clipping: GradientClipping = GradientClipping()) {
        precondition(clipping.maxNorm == nil, "clipping by norm takes a flat ring")
        self.layout = layout
        self.rank = rank
        betweenHosts = RingAllReduce(
            partition: layout.hostRing(localRank: layout.localRank(of: rank)), rank: layout.host(of: rank),
            optimiser: optimiser, clipping: clipping)
    }

    public var owned: Range<Int> { betweenHosts.owned }
    public var optimiser: Optimiser { betweenHosts.optimiser }

    /// As `RingAllReduce.run`, over two links: `local` to the neighbours
    /// inside the host, `between` to the same local rank on the next and
    /// previous hosts.
    public func run(
        sum: GradientSum, weights: LendableBuffer<Float>, mean: UnsafeMutableBufferPointer<Float>,
        batchSamples: Int, learningRate: Float, step: Int, local: RingLink, between: RingLink
    ) throws -> RingAllReduce.Outcome {
        let hostNonFinite: Bool
        switch try reduceScatterInHost(sum, link: local) {
        case .received(let nonFinite): hostNonFinite = nonFinite
        case .interrupted: return .interrupted
        case .stalled: return .stalled
        }
        let outcome = try betweenHosts.run(
            sum: sum, weights: weights, mean: mean, batchSamples: batchSamples, learningRate: learningRate,
            step: step, link: between, localNonFinite: hostNonFinite)
        guard case .updated = outcome else { return outcome }
        switch try allGatherInHost(weights, link: local) {
        case .received: return outcome
        case .interrupted: return .interrupted
        case .stalled: return .stalled
        }
    }

    /// The host's ring reduce-scatter, without an update: afterwards this
    /// member's local chunk of `sum` is the sum over the host. Its receipt
    /// tells whether any member of the host had a non-finite gradient.
    private func reduceScatterInHost(_ sum: GradientSum, link: RingLink) throws -> RingReceipt {
        let partition = layout.local, localRank = layout.localRank(of: rank)
        let ownNonFinite = !sum.finite
        var nonFinite = ownNonFinite
        let first = partition.reduceScatterSend(rank: localRank, round: 0)
        for piece in 0..<partition.pieces {
            try link.sendSum(UnsafeBufferPointer(rebasing: sum.values[partition.piece(piece, of: first)]), round: 0,
                             message: partition.messageIndex(chunk: first, piece: piece), nonFinite: ownNonFinite)
        }
        for round in 0..<partition.rounds {
            let chunk = partition.reduceScatterReceive(rank: localRank, round: round)
            for piece in 0..<partition.pieces {
                let range = partition.piece(piece, of: chunk)
                let message = partition.messageIndex(chunk: chunk, piece: piece)
                switch try link.receiveSum(round: round, message: message,
                                           addingOnto: UnsafeMutableBufferPointer(rebasing: sum.values[range])) {
                case .received(let theirs): nonFinite = theirs || ownNonFinite
                case let ended: return ended
                }
                if round < partition.rounds - 1 {
                    try link.sendSum(UnsafeBufferPointer(rebasing: sum.values[range]), round: round + 1,
                                     message: message, nonFinite: nonFinite)
                }
            }
        }
        return .received(nonFinite: nonFinite)
    }

    /// The host's ring all-gather of the local chunks, each updated by the
    /// ring between hosts that reduced it.
    private func allGatherInHost(_ weights: LendableBuffer<Float>, link: RingLink) throws -> RingReceipt {
        let partition = layout.local, localRank = layout.localRank(of: rank)
        let own = partition.ownedChunk(rank: localRank)
        for piece in 0..<partition.pieces {
            try link.sendWeights(weights.lend(partition.piece(piece, of: own)), round: 0,
                                 message: partition.messageIndex(chunk: own, piece: piece))
        }
        for round in 0..<partition.rounds {
            let chunk = partition.allGatherReceive(rank: localRank, round: round)
            for piece in 0..<partition.pieces {
                let range = partition.piece(piece, of: chunk)
                let message = partition.messageIndex(chunk: chunk, piece: piece)
                let receipt = try weights.write(range) { all in
                    try link.receiveWeights(round: round, message: message, into: UnsafeMutableBufferPointer(rebasing: all[range]))
                }
                guard case .received = receipt else { return receipt }
                if round < partition.rounds - 1 {
                    try link.sendWeights(weights.lend(range), round: round + 1, message: message)
                }
            }
        }
        return .received(nonFinite: false)
    }
}
