import Collective

/// One optimiser step's work: the global batch cut into micro-shards, each a
/// range of positions in the epoch's sample order.
public struct StepWork {
    public let globalStep: Int
    public let shards: [Range<Int>]
    public let order: [Int32]
    /// 0, or 1 when the step is taken again because its first result was not
    /// finite: the collective then keeps the shards away from the members
    /// whose part was not finite, so a faulty worker is outvoted.
    public let attempt: Int

    public init(globalStep: Int, shards: [Range<Int>], order: [Int32], attempt: Int = 0) {
        self.globalStep = globalStep
        self.shards = shards
        self.order = order
        self.attempt = attempt
    }

    public var sampleCount: Int { shards.reduce(0) { $0 + $1.count } }

    /// The same step, to be taken again.
    public func retaken() -> StepWork {
        StepWork(globalStep: globalStep, shards: shards, order: order, attempt: attempt + 1)
    }
}

/// Who computes a step's gradient: this process (`train`) or worker
/// processes over ZeroMQ (the central coordinator). The training loop
/// around it is the same, so the maths is too.
public protocol GradientSource: AnyObject {
    /// Live workers computing gradients (1 for the local source).
    var workerCount: Int { get }
    /// Adds the gradient of every shard of `work` at `weights` onto `sum`
    /// exactly once. A source that sends `weights` without copying them
    /// lends them, and settles them before it returns.
    func compute(_ work: StepWork, weights: LendableBuffer<Float>, into sum: GradientSum) throws
}
