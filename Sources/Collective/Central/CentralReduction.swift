/// The central collective's reduction, as the coordinator runs it: which
/// member holds which micro-shards of the step (`ShardAssignment`), and the
/// exact sum of the partial sums they send back (`GradientSum`).
///
/// A partial counts only if it answers exactly the shards its sender holds,
/// each once, with the samples those shards have: late, duplicate, foreign
/// and inflated replies are refused, never added, so the sum and the count
/// that divides it are those of the step's shards, each added once.
public final class CentralReduction<Member: Hashable> {
    @usableFromInline var sum_: GradientSum?
    @usableFromInline var assignment_ = ShardAssignment<Member>()
    @usableFromInline var nonFiniteFrom_: [Member] = []
    @usableFromInline var shardSamples: [Int] = []

    /// The sum of the step under way, given at `start`.
    @inlinable public var sum: GradientSum? { sum_ }
    @inlinable public var assignment: ShardAssignment<Member> { assignment_ }
    /// Members whose partial was not finite this step (for the recheck).
    @inlinable public var nonFiniteFrom: [Member] { nonFiniteFrom_ }

    public enum Verdict: Equatable {
        case added
        /// The sum took the partial's own buffer as its storage (keep it alive until the next start).
        case adopted
        case refused(String)
    }

    /// Where a partial's values are: in place, laid out like the sum, or
    /// written by a closure (onto the target, or overwriting it if `overwrite`).
    public enum Partial {
        case inPlace(UnsafeMutableBufferPointer<Int64>)
        case written((_ target: UnsafeMutableBufferPointer<Int64>, _ overwrite: Bool) -> Void)
    }

    @inlinable public init() {}

    /// Starts a step of shards with these sample counts over `memberCount`
    /// members (`member(i)` is the i-th), summing onto `sum` (already reset);
    /// `give` sends each member its block.
    @inlinable public func start<Counts: Collection>(
        into sum: GradientSum, shardSamples counts: Counts, memberCount: Int, member: (Int) -> Member,
        give: (Member, Range<Int>) throws -> Void
    ) rethrows where Counts.Element == Int {
        sum_ = sum
        nonFiniteFrom_.removeAll(keepingCapacity: true)
        shardSamples.removeAll(keepingCapacity: true)
        shardSamples.append(contentsOf: counts)
        try assignment_.startBlocks(shardCount: shardSamples.count, workerCount: memberCount, worker: member, give: give)
    }

    /// Adds `member`'s partial sum of `shards`, if it is theirs to give.
    @inlinable public func accept<Shards: Collection>(
        _ shards: Shards, from member: Member, samples: Int, lossFixed: Int64, correct: Int, values: Partial
    ) -> Verdict where Shards.Element == Int {
        guard let sum = sum_ else { return .refused("gradient while no step is under way") }
        guard shards.allSatisfy({ assignment_.holds($0, member) }) else {
            return .refused("gradient for shards \(Array(shards)) it does not hold")
        }
        let expected = shards.reduce(0) { $0 + shardSamples[$1] }
        guard samples == expected else {
            return .refused("gradient claims \(samples) samples, its shards hold \(expected)")
        }
        guard assignment_.complete(shards, by: member) else {
            return .refused("gradient names a shard twice")
        }
        if lossFixed == FixedPoint.nonFiniteLoss { nonFiniteFrom_.append(member) }
        switch values {
        case .inPlace(let frame):
            let adopted = sum.addPartial(adopting: frame, lossFixed: lossFixed, correct: correct, samples: samples,
                                         shards: shards.count)
            return adopted ? .adopted : .added
        case .written(let write):
            sum.addPartial(lossFixed: lossFixed, correct: correct, samples: samples, shards: shards.count, write: write)
            return .added
        }
    }

    @inlinable public var isComplete: Bool { assignment_.isComplete }

    /// Hands the unfinished shards of `lost` to `members`; returns the new blocks.
    @inlinable public func reassign(from lost: Member, to members: [Member]) -> [(Member, [Int])] {
        assignment_.reassign(from: lost, to: members)
    }

    /// Shards whose member was lost while none was left, given to `members`.
    @inlinable public func adoptOrphans(by members: [Member]) -> [(Member, [Int])] {
        assignment_.hasOrphans ? assignment_.adoptOrphans(by: members) : []
    }

    /// Ends the step: the sum is no longer this reduction's.
    @inlinable public func finish() { sum_ = nil }
}
