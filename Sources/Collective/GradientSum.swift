/// The running total of one step's micro-shard gradients on the fixed-point
/// grid, plus the step's loss and accuracy counts. Owned by whoever reduces:
/// the coordinator (central collective) or a worker for its own shards.
///
/// The first contribution after `reset` is stored rather than added, so a
/// step never pays for clearing megabytes it is about to overwrite.
public final class GradientSum {
    public let values: UnsafeMutableBufferPointer<Int64>
    private let ownsValues: Bool
    public private(set) var lossFixed: Int64 = 0
    public private(set) var correct = 0
    public private(set) var samples = 0
    public private(set) var shards = 0
    /// False once any contribution held NaN or infinity.
    public private(set) var finite = true
    /// True until the first contribution: `values` then holds stale data.
    public private(set) var isEmpty = true

    public init(parameterCount: Int) {
        values = .allocate(capacity: parameterCount)
        values.initialize(repeating: 0)
        ownsValues = true
    }

    /// A sum kept in someone else's buffer, e.g. an outgoing message, so the
    /// result needs no copy to be sent. The buffer must outlive this object.
    public init(wrapping buffer: UnsafeMutableBufferPointer<Int64>) {
        values = buffer
        ownsValues = false
    }

    deinit { if ownsValues { values.deallocate() } }

    public func reset() {
        lossFixed = 0; correct = 0; samples = 0; shards = 0; finite = true; isEmpty = true
    }

    /// Adds micro-shards' Float gradient sums, `group[i]` with `results[i]`,
    /// rounding them all in one pass over the sum (`FixedPoint.add`).
    public func addShards(
        _ group: ArraySlice<UnsafeMutableBufferPointer<Float>>, results: ArraySlice<ShardResult>
    ) {
        precondition(group.count == results.count, "one result per shard gradient")
        guard !group.isEmpty else { return }
        let gradientFinite = FixedPoint.add(group, into: values, overwrite: isEmpty)
        isEmpty = false
        for result in results {
            addCounts(lossFixed: FixedPoint.encode(loss: result.lossSum), correct: result.correct,
                      samples: result.samples, shards: 1)
        }
        finite = finite && gradientFinite
    }

    /// Adds a partial sum that another process already reduced on the same grid:
    /// `write` puts it into the buffer it is given,
    /// adding onto it, or overwriting it when the sum is still empty: a
    /// received frame in any encoding is read once, straight into the sum.
    public func addPartial(
        lossFixed: Int64, correct: Int, samples: Int, shards: Int,
        write: (_ target: UnsafeMutableBufferPointer<Int64>, _ overwrite: Bool) -> Void
    ) {
        write(values, isEmpty)
        isEmpty = false
        addCounts(lossFixed: lossFixed, correct: correct, samples: samples, shards: shards)
    }

    private func addCounts(lossFixed loss: Int64, correct: Int, samples: Int, shards: Int) {
        lossFixed = FixedPoint.add(loss: lossFixed, loss)
        if lossFixed == FixedPoint.nonFiniteLoss { finite = false }
        self.correct += correct
        self.samples += samples
        self.shards += shards
    }

    public var lossSum: Double { FixedPoint.decode(loss: lossFixed) }

    /// The mean gradient the optimiser applies, at `range` (written to the same range of `mean`).
    public func average(_ range: Range<Int>, into mean: UnsafeMutableBufferPointer<Float>) {
        precondition(!isEmpty, "average of an empty sum")
        FixedPoint.average(UnsafeBufferPointer(rebasing: values[range]), sampleCount: samples,
                           into: UnsafeMutableBufferPointer(rebasing: mean[range]))
    }
}

/// One micro-shard's summed loss, correct count and size, beside its gradient.
public struct ShardResult {
    public var lossSum: Double
    public var correct: Int
    public var samples: Int

    public init(lossSum: Double, correct: Int, samples: Int) {
        self.lossSum = lossSum
        self.correct = correct
        self.samples = samples
    }
}
