/// The running total of one step's micro-shard gradients on the fixed-point
/// grid, plus the step's loss and accuracy counts. Owned by whoever reduces:
/// the coordinator (central collective) or a worker for its own shards.
///
/// The first contribution after `reset` is stored rather than added, so a
/// step never pays for clearing megabytes it is about to overwrite.
public final class GradientSum {
    /// Where the sum lives: its own buffer, or one `reset(storage:)` or
    /// `addPartial(adopting:...)` handed it until the next reset.
    public private(set) var values: UnsafeMutableBufferPointer<Int64>
    private let ownValues: UnsafeMutableBufferPointer<Int64>
    public private(set) var lossFixed: Int64 = 0
    public private(set) var correct = 0
    public private(set) var samples = 0
    public private(set) var shards = 0
    /// False once any contribution held NaN or infinity.
    public private(set) var finite = true
    /// True until the first contribution: `values` then holds stale data.
    public private(set) var isEmpty = true

    /// The buffer is not cleared: nothing reads a sum before its first
    /// contribution (`isEmpty`), and a central worker, which sums into its
    /// reply frames, then never makes these 8 bytes a parameter resident.
    public init(parameterCount: Int) {
        ownValues = .allocate(capacity: parameterCount)
        values = ownValues
    }

    deinit { ownValues.deallocate() }

    /// Empties the sum. With `storage` (as long as the sum), the sum is then
    /// kept there, e.g. in an outgoing message's frame, so that the result
    /// needs no copy to be sent; the buffer must outlive its use.
    public func reset(storage: UnsafeMutableBufferPointer<Int64>? = nil) {
        precondition(storage.map { $0.count == ownValues.count } ?? true, "storage of the wrong length")
        values = storage ?? ownValues
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

    /// Adds a partial sum received as values laid out like this sum's, in
    /// `frame`. An empty sum makes `frame` its storage instead of copying it
    /// (later partials are added there), so the caller keeps the frame alive
    /// and unchanged until the next `reset`. Returns whether it did.
    @discardableResult
    public func addPartial(
        adopting frame: UnsafeMutableBufferPointer<Int64>, lossFixed: Int64, correct: Int, samples: Int, shards: Int
    ) -> Bool {
        precondition(frame.count == ownValues.count, "partial sum of the wrong length")
        let adopted = isEmpty
        if adopted {
            values = frame
        } else {
            let target = values.baseAddress!, source = frame.baseAddress!
            for i in 0..<frame.count { target[i] &+= source[i] }
        }
        isEmpty = false
        addCounts(lossFixed: lossFixed, correct: correct, samples: samples, shards: shards)
        return adopted
    }

    private func addCounts(lossFixed loss: Int64, correct: Int, samples: Int, shards: Int) {
        lossFixed = FixedPoint.add(loss: lossFixed, loss)
        if lossFixed == FixedPoint.nonFiniteLoss { finite = false }
        self.correct += correct
        self.samples += samples
        self.shards += shards
    }

    public var lossSum: Double { FixedPoint.decode(loss: lossFixed) }
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
