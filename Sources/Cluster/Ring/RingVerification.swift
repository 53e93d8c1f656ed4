import Collective
import Datasets
import MLP
import Training
import Wire

/// Verified gradients, ring collective. Gradients never reach the
/// coordinator, so members compare digests instead: for each sampled shard
/// (`VerificationSample`), its holder computes it alone before adding it to
/// its sum, another computing member is sent it too, and both report a
/// digest of that shard's fixed-point gradient (`SumDigest`) in their
/// `ring done`. Equal inputs give equal bits, so the digests must agree.
///
/// When they do not, the coordinator is the referee: the members have by
/// then applied the step, so it brings its own copy of the state up to the
/// step (the snapshot and the steps taken since, computed here as `train`
/// would) and computes the shard a third time. Whoever disagrees with that
/// is expelled and denied, and the ring starts again from that state
/// without it, taking the step once more: the model stays the undisturbed
/// run's.
struct RingCheck: Equatable {
    let shard: Int
    /// Ranks in the ring.
    let holder: Int
    let checker: Int

    /// The sampled shards of a step whose shards the ring's ranks hold in
    /// `blocks` (empty for a member kept from computing), each with a
    /// checker: another computing member, chosen by the shard.
    static func plan(step: Int, blocks: [Range<Int>], sample: VerificationSample) -> [RingCheck] {
        // Nothing is allocated on a step without a sampled shard (most steps).
        let computing = blocks.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) }
        guard sample.fraction > 0, computing >= 2 else { return [] }
        var checks: [RingCheck] = []
        for holder in blocks.indices {
            for shard in blocks[holder] where sample.contains(step: step, shard: shard) {
                checks.append(RingCheck(shard: shard, holder: holder, checker: checker(of: shard, holder: holder, blocks: blocks, computing: computing)))
            }
        }
        return checks
    }

    /// Computing rank number `shard mod (computing - 1)` among those other than `holder`.
    private static func checker(of shard: Int, holder: Int, blocks: [Range<Int>], computing: Int) -> Int {
        var remaining = shard % (computing - 1)
        for rank in blocks.indices where rank != holder && !blocks[rank].isEmpty {
            if remaining == 0 { return rank }
            remaining -= 1
        }
        preconditionFailure("fewer computing ranks than counted")
    }
}

/// The coordinator's third computation of a disputed shard, on its own copy
/// of the state before the step: the ring's snapshot, brought up to the step
/// through the replay log exactly as `train` computes it (the ring gives
/// train's bytes). Made only when a dispute arises.
final class RingReferee {
    private let data: LabeledImages
    private let updater: AveragingUpdater
    private let computer: ShardGradientComputer
    private let shardSum: GradientSum

    init(data: LabeledImages, configuration: TrainingConfiguration) {
        self.data = data
        updater = AveragingUpdater(
            source: LocalGradientSource(data: data, architecture: configuration.architecture, shardSize: configuration.shardSize,
                                        options: configuration.gradientOptions),
            configuration: configuration)
        computer = ShardGradientComputer(architecture: configuration.architecture, shardSize: configuration.shardSize,
                                         options: configuration.gradientOptions)
        shardSum = GradientSum(parameterCount: configuration.architecture.parameterCount)
    }

    /// Takes the snapshot's state and the logged steps since: the state before the step in dispute.
    func catchUp(from snapshot: RingSnapshot, replay: ReplayLog) throws {
        try updater.load(weights: UnsafeBufferPointer(snapshot.weights), velocity: UnsafeBufferPointer(snapshot.velocity),
                         step: Int(snapshot.step))
        for entry in replay.entries {
            _ = try updater.step(entry.work, learningRate: entry.rate, next: nil)
        }
    }

    /// The state `catchUp` reached.
    func state() throws -> ModelState { try updater.state() }

    /// The digest an honest member reports for `shard` of `work`.
    func digest(of shard: Int, in work: StepWork) throws -> SIMD4<UInt64> {
        try computer.computeAlone(shard, of: work, from: data, weights: try updater.state().weights, into: shardSum)
        return SumDigest.of(shardSum)
    }
}
