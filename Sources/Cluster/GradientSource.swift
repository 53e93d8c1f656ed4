import Collective
import Datasets

/// One optimiser step's work: the global batch cut into micro-shards, each a
/// range of positions in the epoch's sample order.
public struct StepWork {
    public let globalStep: Int
    public let shards: [Range<Int>]
    public let order: [Int32]
}

/// Who computes a step's gradient: this process (`train`) or worker
/// processes over ZeroMQ (`coordinator`, `simulate`). The training loop
/// around it is the same, so the maths is too.
public protocol GradientSource: AnyObject {
    /// Live workers computing gradients (1 for the local source).
    var workerCount: Int { get }
    /// Adds the gradient of every shard of `work` onto `sum` exactly once.
    func compute(_ work: StepWork, weights: UnsafeBufferPointer<Float>, into sum: GradientSum) throws
    /// Nanoseconds spent in gradient computation since the last call (for comm_fraction).
    func takeComputeNanoseconds() -> UInt64
}
