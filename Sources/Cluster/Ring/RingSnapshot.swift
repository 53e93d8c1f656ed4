/// The coordinator's copy of a ring's state after some step: the weights
/// and the optimiser's state, gathered from the members one owned slice each.
/// The state is `planes` planes of the parameter count (SGD's velocity, or
/// Adam's two moments); a member's slice holds its range of every plane.
///
/// Gathered slices join the snapshot only on `commit`, once every member's
/// has arrived. A ring that breaks mid-gather must leave the old snapshot
/// whole, because the next ring starts from it and repeats the steps since:
/// writing slices straight in made about one chaos run in eight end with
/// other bytes than `train` (scripts/chaos.sh --collective ring).
public final class RingSnapshot {
    public let weights: UnsafeMutableBufferPointer<Float>
    /// planes × parameterCount values, plane after plane.
    public let velocity: UnsafeMutableBufferPointer<Float>
    public let planes: Int
    private let gatheredWeights: UnsafeMutableBufferPointer<Float>
    private let gatheredVelocity: UnsafeMutableBufferPointer<Float>
    /// Parameters gathered since the last commit.
    private var gatheredCount = 0
    /// Steps taken before this state: the ring coordinator's step counter,
    /// with the steps in its replay log on top.
    public private(set) var step: UInt64 = 0

    public init(parameterCount: Int, planes: Int = 1) {
        self.planes = planes
        weights = .allocate(capacity: parameterCount)
        weights.initialize(repeating: 0)
        velocity = .allocate(capacity: planes * parameterCount)
        velocity.initialize(repeating: 0)
        gatheredWeights = .allocate(capacity: parameterCount)
        gatheredVelocity = .allocate(capacity: planes * parameterCount)
    }

    deinit {
        for buffer in [weights, velocity, gatheredWeights, gatheredVelocity] { buffer.deallocate() }
    }

    /// Replaces the snapshot outright (a new run, or a checkpoint being resumed).
    public func load(weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>, step: UInt64) {
        self.step = step
        _ = self.weights.update(fromContentsOf: weights)
        _ = self.velocity.update(fromContentsOf: velocity)
        gatheredCount = 0
    }

    /// Drops whatever a broken gather left, before a new one starts.
    public func startGathering() { gatheredCount = 0 }

    /// One member's owned slice of the snapshot being gathered; `velocity`
    /// holds the range of each plane, one after another.
    public func gather(_ range: Range<Int>, weights: UnsafeBufferPointer<Float>, velocity: UnsafeBufferPointer<Float>) {
        precondition(weights.count == range.count && velocity.count == planes * range.count, "slice of the wrong size")
        _ = UnsafeMutableBufferPointer(rebasing: gatheredWeights[range]).update(fromContentsOf: weights)
        let n = self.weights.count
        for plane in 0..<planes {
            let from = velocity[(plane * range.count)..<((plane + 1) * range.count)]
            let to = (plane * n + range.lowerBound)..<(plane * n + range.upperBound)
            _ = UnsafeMutableBufferPointer(rebasing: gatheredVelocity[to]).update(fromContentsOf: UnsafeBufferPointer(rebasing: from))
        }
        gatheredCount += range.count
    }

    /// The state of `range`, every plane's part one after another: what a
    /// ring member owning `range` starts from.
    public func ownedState(_ range: Range<Int>) -> [Float] {
        let n = weights.count
        return (0..<planes).flatMap { plane in velocity[(plane * n + range.lowerBound)..<(plane * n + range.upperBound)] }
    }

    /// Makes the gathered slices, every member's, the snapshot of the state before `step`.
    public func commit(step: UInt64) {
        self.step = step
        precondition(gatheredCount == weights.count, "committing \(gatheredCount) of \(weights.count) parameters")
        _ = weights.update(fromContentsOf: gatheredWeights)
        _ = velocity.update(fromContentsOf: gatheredVelocity)
        gatheredCount = 0
    }
}
