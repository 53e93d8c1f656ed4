/// Early stopping on the validation loss: the best epoch so far, and
/// whether `patience` epochs have gone by without beating it. Its state
/// travels in checkpoints, so a resumed run stops where the whole one would.
public struct EarlyStopping: Equatable {
    /// Epochs without a new best before stopping; nil: never stop, only track the best.
    public let patience: Int?
    public private(set) var bestLoss = Double.infinity
    /// 1-based; 0 before any epoch.
    public private(set) var bestEpoch = 0

    public init(patience: Int?) {
        self.patience = patience
    }

    /// Records epoch `epoch`'s (1-based) validation loss. `improved`: this is
    /// the best epoch so far (strictly lower loss); `stop`: training should
    /// end after it.
    public mutating func record(epoch: Int, loss: Double) -> (improved: Bool, stop: Bool) {
        let improved = loss < bestLoss
        if improved {
            bestLoss = loss
            bestEpoch = epoch
        }
        let stop = patience.map { epoch - bestEpoch >= $0 } ?? false
        return (improved, stop)
    }

    var progress: [String: String] {
        ["best_val_loss_bits": String(bestLoss.bitPattern, radix: 16), "best_epoch": String(bestEpoch)]
    }

    mutating func restore(_ progress: [String: String]) {
        if let bits = progress["best_val_loss_bits"].flatMap({ UInt64($0, radix: 16) }),
           let epoch = progress["best_epoch"].flatMap(Int.init) {
            bestLoss = Double(bitPattern: bits)
            bestEpoch = epoch
        }
    }
}
