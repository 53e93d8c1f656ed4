import MLP

/// What the ring all-reduce needs from the wire to its neighbours: send a
/// piece to the right, receive the piece due from the left. `message` is
/// the piece's index (`RingPartition.messageIndex`); a receipt says the
/// piece arrived, or that the exchange must end (`interrupted` by the
/// coordinator, or `stalled`: the left neighbour fell silent).
///
/// Between the reduce-scatter and the all-gather a step may pass small
/// values round the ring (`sendValue`, `receiveValue`): 16 bytes each,
/// `message` naming the member whose value it is; with --clip-norm, each
/// member's part of the squared gradient norm (`SquaredNorm.words`). Every
/// link delivers a step's messages in the order they were sent.
public protocol RingLink: AnyObject {
    func sendSum(_ values: UnsafeBufferPointer<Int64>, round: Int, message: Int, nonFinite: Bool) throws
    /// `values` stay lent until the weights' owner settles them.
    func sendWeights(_ values: UnsafeBufferPointer<Float>, round: Int, message: Int) throws
    func receiveSum(round: Int, message: Int, addingOnto sum: UnsafeMutableBufferPointer<Int64>) throws -> RingReceipt
    func receiveWeights(round: Int, message: Int, into weights: UnsafeMutableBufferPointer<Float>) throws -> RingReceipt
    /// Copied at once: `value` need not outlive the call.
    func sendValue(_ value: SIMD2<UInt64>, round: Int, message: Int) throws
    /// Writes the value due into `value` only when it is `received`.
    func receiveValue(round: Int, message: Int, into value: inout SIMD2<UInt64>) throws -> RingReceipt
    /// The owned piece `message` just before the update writes it: a link
    /// may send the update as steps from these values, which every member holds.
    func weightsWillChange(_ values: UnsafeBufferPointer<Float>, message: Int)
    /// Every weight send of the step before has reached the right
    /// neighbour: what those sends still point at may be written again.
    func weightSendsSettled()
}

extension RingLink {
    public func weightsWillChange(_ values: UnsafeBufferPointer<Float>, message: Int) {}
    public func weightSendsSettled() {}
}

public enum RingReceipt {
    /// The piece arrived; for a sum, whether some member on its way had a non-finite gradient.
    case received(nonFinite: Bool)
    case interrupted
    case stalled
}

/// The ring all-reduce of one member, as the algorithm: reduce-scatter the
/// fixed-point sums, average and update the owned slice with the optimiser, all-gather
/// the updated weights. The wire is behind a RingLink.
///
/// Every chunk travels in pieces, and each piece moves on as soon as it is
/// ready: added and passed on in the reduce-scatter, updated and sent out as
/// soon as its sum is whole, copied and passed on in the all-gather. So the
/// wire, the adding and the update overlap.
///
/// Clipping by norm scales by the norm of the whole gradient: the owned
/// chunk's squares are summed as its pieces become whole, the members pass
/// their parts round the ring, and only then is any piece updated.
public struct RingAllReduce {
    public enum Outcome: Equatable {
        /// The weights are the step's result on every member; with
        /// clipping by norm, the averaged gradient's norm before clipping.
        case updated(gradientNorm: Double?)
        /// Some member's gradient was not finite: nothing was updated anywhere.
        case nonFinite
        /// The exchange ended midway: the weights may be half updated.
        case interrupted
        case stalled
    }

    public let partition: RingPartition
    public let rank: Int
    /// The optimiser over the owned slice only: its state (momentum, Adam's
    /// moments) is sharded, never duplicated.
    public let optimiser: Optimiser
    public let clipping: GradientClipping

    public init(partition: RingPartition, rank: Int, optimiser: Optimiser, clipping: GradientClipping = GradientClipping()) {
        precondition(optimiser.parameterCount == partition.owned(rank: rank).count, "optimiser state of another slice")
        self.clipping = clipping
        self.partition = partition
        self.rank = rank
        self.optimiser = optimiser
    }

    public var owned: Range<Int> { partition.owned(rank: rank) }

    /// Reduces `sum` (this member's own shards; consumed: it holds partial
    /// and whole chunk sums afterwards) over the ring and updates `weights`
    /// to the step's result. `mean` is scratch, at least as long as the owned slice.
    ///
    /// `weights` are lent to the all-gather's sends and settled at the first
    /// whole chunk of the next step: that chunk has passed every member, so
    /// the right neighbour has finished this step and holds every piece sent
    /// to it. No weight is written before.
    ///
    /// `localNonFinite` is whether this member's part is not finite; by
    /// default its own sum's, in the two-level all-reduce its host's.
    public func run(
        sum: GradientSum, weights: LendableBuffer<Float>, mean: UnsafeMutableBufferPointer<Float>,
        batchSamples: Int, learningRate: Float, step: Int, link: RingLink, localNonFinite: Bool? = nil
    ) throws -> Outcome {
        precondition(batchSamples > 0, "a step averages over at least one sample")
        let pieces = partition.pieces
        let ownedChunk = partition.ownedChunk(rank: rank)
        // The non-finite flag travels with each piece, so the owner of a whole
        // sum knows whether any member's gradient failed. Every piece passes
        // every member, so all pieces and all members agree on it.
        let localNonFinite = localNonFinite ?? !sum.finite
        var nonFinite = localNonFinite
        let clipsByNorm = clipping.maxNorm != nil
        // Clipping by norm: the owned chunk's squares as its pieces become
        // whole, then the whole gradient's norm and the factor it gives.
        var squares = SquaredNorm.zero
        var gradientNorm: Double?
        var scale: Float = 1

        func clip(by total: SquaredNorm) {
            let norm = total.norm(sampleCount: batchSamples)
            gradientNorm = norm
            scale = clipping.scale(norm: norm)
        }

        func update(_ piece: Int) throws {
            let range = partition.piece(piece, of: ownedChunk)
            let message = partition.messageIndex(chunk: ownedChunk, piece: piece)
            if partition.rounds > 0 { link.weightsWillChange(UnsafeBufferPointer(rebasing: weights.readOnly[range]), message: message) }
            try updateOwned(range, sum: sum, weights: weights, mean: mean, batchSamples: batchSamples,
                            learningRate: learningRate, step: step, scale: scale)
            if partition.rounds > 0 {
                try link.sendWeights(weights.lend(range), round: 0, message: message)
            }
        }

        if partition.rounds == 0 {
            if nonFinite { return .nonFinite }
            if clipsByNorm { clip(by: SquaredNorm(of: UnsafeBufferPointer(rebasing: sum.values[owned]))) }
            for piece in 0..<pieces { try update(piece) }
            return .updated(gradientNorm: gradientNorm)
        }
        let first = partition.reduceScatterSend(rank: rank, round: 0)
        for piece in 0..<pieces {
            try link.sendSum(UnsafeBufferPointer(rebasing: sum.values[partition.piece(piece, of: first)]), round: 0,
                             message: partition.messageIndex(chunk: first, piece: piece), nonFinite: localNonFinite)
        }
        for round in 0..<partition.rounds {
            let chunk = partition.reduceScatterReceive(rank: rank, round: round)
            let last = round == partition.rounds - 1
            for piece in 0..<pieces {
                let range = partition.piece(piece, of: chunk)
                let message = partition.messageIndex(chunk: chunk, piece: piece)
                switch try link.receiveSum(round: round, message: message,
                                           addingOnto: UnsafeMutableBufferPointer(rebasing: sum.values[range])) {
                case .received(let theirs): nonFinite = theirs || localNonFinite
                case .interrupted: return .interrupted
                case .stalled: return .stalled
                }
                if last, piece == 0 {
                    weights.settle()
                    link.weightSendsSettled()
                }
                if !last {
                    try link.sendSum(UnsafeBufferPointer(rebasing: sum.values[range]), round: round + 1,
                                     message: message, nonFinite: nonFinite)
                } else if clipsByNorm {
                    squares = squares.adding(SquaredNorm(of: UnsafeBufferPointer(rebasing: sum.values[range])))
                } else if !nonFinite {
                    try update(piece)
                }
            }
        }
        if nonFinite { return .nonFinite }
        if clipsByNorm {
            switch try exchange(squares, link: link) {
            case .total(let total): clip(by: total)
            case .ended(let outcome): return outcome
            }
            for piece in 0..<pieces { try update(piece) }
        }
        for round in 0..<partition.rounds {
            let chunk = partition.allGatherReceive(rank: rank, round: round)
            for piece in 0..<pieces {
                let range = partition.piece(piece, of: chunk)
                let message = partition.messageIndex(chunk: chunk, piece: piece)
                let receipt = try weights.write(range) { all in
                    try link.receiveWeights(round: round, message: message, into: UnsafeMutableBufferPointer(rebasing: all[range]))
                }
                switch receipt {
                case .received: break
                case .interrupted: return .interrupted
                case .stalled: return .stalled
                }
                if round < partition.rounds - 1 {
                    try link.sendWeights(weights.lend(range), round: round + 1, message: message)
                }
            }
        }
        return .updated(gradientNorm: gradientNorm)
    }

    private enum Exchange {
        case total(SquaredNorm)
        case ended(Outcome)
    }

    /// The whole gradient's squared norm from this member's part and every
    /// other member's: an all-gather of one value each, in which member r
    /// sends member r - k's part in round k and passes on what it received.
    /// The parts are integers, so every member adds up the same total.
    private func exchange(_ own: SquaredNorm, link: RingLink) throws -> Exchange {
        var total = own
        var passing = own.words
        let size = partition.size
        for round in 0..<partition.rounds {
            try link.sendValue(passing, round: round, message: (rank - round + size) % size)
            switch try link.receiveValue(round: round, message: (rank - round - 1 + 2 * size) % size, into: &passing) {
            case .received: total = total.adding(SquaredNorm(words: passing))
            case .interrupted: return .ended(.interrupted)
            case .stalled: return .ended(.stalled)
            }
        }
        return .total(total)
    }

    /// The optimiser on the whole sums of `range`, part of the owned slice,
    /// scaled by `scale` (clipping by norm).
    private func updateOwned(
        _ range: Range<Int>, sum: GradientSum, weights: LendableBuffer<Float>, mean: UnsafeMutableBufferPointer<Float>,
        batchSamples: Int, learningRate: Float, step: Int, scale: Float
    ) throws {
        let owned = self.owned
        try weights.write(range) { all in
            applyAveragedUpdate(
                sums: UnsafeBufferPointer(rebasing: sum.values[owned]), sampleCount: batchSamples,
                range: (range.lowerBound - owned.lowerBound)..<(range.upperBound - owned.lowerBound), optimiser: optimiser,
                parameters: UnsafeMutableBufferPointer(rebasing: all[owned]),
                mean: UnsafeMutableBufferPointer(rebasing: mean[0..<owned.count]), learningRate: learningRate,
                step: step, clipping: clipping, scale: scale)
        }
    }
}
