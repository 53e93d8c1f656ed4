/// The running total of one step's micro-shard gradients on the fixed-point
/// grid, plus the step's loss and accuracy counts. Owned by whoever reduces:
/// the coordinator (central collective) or a worker for its own shards.
public final class GradientSum {
    public let values: UnsafeMutableBufferPointer<Int64>
    public private(set) var lossFixed: Int64 = 0
    public private(set) var correct = 0
    public private(set) var samples = 0
    public private(set) var shards = 0
    /// False once any contribution held NaN or infinity.
    public private(set) var finite = true

    public init(parameterCount: Int) {
        values = .allocate(capacity: parameterCount)
        values.initialize(repeating: 0)
    }

    deinit { values.deallocate() }

    public func reset() {
        values.update(repeating: 0)
        lossFixed = 0; correct = 0; samples = 0; shards = 0; finite = true
    }

    /// Adds one micro-shard's Float gradient sum and its loss and counts.
    public func addShard(gradient: UnsafeBufferPointer<Float>, lossSum: Double, correct: Int, samples: Int) {
        let gradientFinite = FixedPoint.accumulate(gradient, into: values)
        addCounts(lossFixed: FixedPoint.encode(loss: lossSum), correct: correct, samples: samples, shards: 1)
        finite = finite && gradientFinite
    }

    /// Adds a partial sum that another process already reduced on the same grid.
    public func addPartial(
        _ partial: UnsafeBufferPointer<Int64>, lossFixed: Int64, correct: Int, samples: Int, shards: Int
    ) {
        FixedPoint.add(partial, into: values)
        addCounts(lossFixed: lossFixed, correct: correct, samples: samples, shards: shards)
    }

    private func addCounts(lossFixed loss: Int64, correct: Int, samples: Int, shards: Int) {
        if loss == FixedPoint.nonFiniteLoss || lossFixed == FixedPoint.nonFiniteLoss {
            lossFixed = FixedPoint.nonFiniteLoss
            finite = false
        } else {
            lossFixed &+= loss
        }
        self.correct += correct
        self.samples += samples
        self.shards += shards
    }

    public var lossSum: Double { FixedPoint.decode(loss: lossFixed) }

    /// The mean gradient the optimiser applies.
    public func average(into mean: UnsafeMutableBufferPointer<Float>) {
        FixedPoint.average(UnsafeBufferPointer(values), sampleCount: samples, into: mean)
    }
}
