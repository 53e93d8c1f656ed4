/// How one epoch is cut into global mini-batches and each batch into
/// micro-shards. Positions index into the epoch's permutation.
///
/// The shard size is fixed and does not depend on the number of workers:
/// shards are the unit the reduction sums in a fixed order, which is what
/// makes the result identical for any number of workers.
public struct BatchPlan: Equatable, Sendable {
    public let sampleCount: Int
    public let batchSize: Int
    public let shardSize: Int

    public init(sampleCount: Int, batchSize: Int, shardSize: Int = 32) throws {
        guard sampleCount > 0 else { throw BatchPlanError.noSamples }
        guard batchSize > 0 else { throw BatchPlanError.badBatchSize(batchSize) }
        guard shardSize > 0 else { throw BatchPlanError.badShardSize(shardSize) }
        self.sampleCount = sampleCount
        self.batchSize = batchSize
        self.shardSize = shardSize
    }

    /// The last batch may be partial; it is kept so every sample is seen.
    public var stepsPerEpoch: Int { (sampleCount + batchSize - 1) / batchSize }

    public func batchRange(step: Int) -> Range<Int> {
        precondition(step >= 0 && step < stepsPerEpoch, "step \(step) outside 0..<\(stepsPerEpoch)")
        let start = step * batchSize
        return start..<min(start + batchSize, sampleCount)
    }

    public func shardCount(step: Int) -> Int {
        (batchRange(step: step).count + shardSize - 1) / shardSize
    }

    /// Shard `shard` of batch `step`, without building the whole list.
    public func shardRange(step: Int, shard: Int) -> Range<Int> {
        let batch = batchRange(step: step)
        precondition(shard >= 0 && shard < shardCount(step: step), "shard \(shard) outside batch \(step)")
        let start = batch.lowerBound + shard * shardSize
        return start..<min(start + shardSize, batch.upperBound)
    }

    /// Consecutive shards of `shardSize`, the last possibly shorter; a
    /// shard's id is its index here.
    public func shardRanges(step: Int) -> [Range<Int>] {
        (0..<shardCount(step: step)).map { shardRange(step: step, shard: $0) }
    }
}

/// A batch plan that cannot work; the sizes come from command-line flags.
public enum BatchPlanError: Error, CustomStringConvertible, Equatable {
    case noSamples
    case badBatchSize(Int)
    case badShardSize(Int)

    public var description: String {
        switch self {
        case .noSamples: return "the training data holds no samples"
        case let .badBatchSize(size): return "--batch-size: must be at least 1, got \(size)"
        case let .badShardSize(size): return "shard size: must be at least 1, got \(size)"
        }
    }
}
