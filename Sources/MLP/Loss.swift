import Foundation

/// What a batch scored: the summed (not averaged) loss and how many samples
/// the network classified correctly (argmax of the outputs, ties going to
/// the lowest index, equals the label).
public struct BatchResult: Equatable, Sendable {
    public var lossSum: Double
    public var correct: Int

    public init(lossSum: Double = 0, correct: Int = 0) {
        self.lossSum = lossSum
        self.correct = correct
    }
}

/// The loss on the linear outputs z of the last layer, for a class label y,
/// against the target q = (1 − ε)·onehot(y) + ε/K over K classes (label
/// smoothing ε; 0 gives the plain one-hot target).
///
/// - cross-entropy: softmax fused with cross-entropy,
///   loss = logsumexp(z) − Σ_j q_j z_j, dloss/dz = softmax(z) − q.
///   The maximum is subtracted before exponentiating, so logits of any
///   magnitude neither overflow nor lose the loss.
/// - mse: loss = ½ Σ_j (z_j − q_j)², dloss/dz = z − q.
///   The ½ makes the gradient the plain residual; it is summed over the
///   outputs, not averaged.
public enum Loss: String, CaseIterable, Sendable {
    case crossEntropy = "cross-entropy"
    case meanSquaredError = "mse"

    /// Looks a name up as written on the command line ("cross-entropy", "mse").
    public init(name: String) throws {
        guard let loss = Loss(rawValue: name) else { throw ArchitectureError.unknownLoss(name) }
        self = loss
    }

    /// Scores `batch` rows of `outputs` values each; when `delta` is given it
    /// also writes dloss/dz per sample there (same shape as `z`).
    func score(_ z: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch: Int, outputs: Int,
               delta: UnsafeMutablePointer<Float>?, smoothing: Float = 0) -> BatchResult {
        var result = BatchResult()
        let off = smoothing / Float(outputs), on = 1 - smoothing + off
        for row in 0..<batch {
            let zRow = z + row * outputs
            let label = Int(labels[row])
            precondition(label < outputs, "label \(label) out of range for \(outputs) outputs")
            let best = Self.argmax(zRow, count: outputs)
            if best == label { result.correct += 1 }
            let deltaRow = delta.map { $0 + row * outputs }
            switch self {
            case .crossEntropy:
                let largest = zRow[best]
                var sum: Float = 0
                for j in 0..<outputs { sum += Foundation.exp(zRow[j] - largest) }
                var targetDotZ = Double(zRow[label])
                if smoothing != 0 {
                    var zSum: Double = 0
                    for j in 0..<outputs { zSum += Double(zRow[j]) }
                    targetDotZ = Double(on - off) * Double(zRow[label]) + Double(off) * zSum
                }
                result.lossSum += Double(largest) + Foundation.log(Double(sum)) - targetDotZ
                if let deltaRow {
                    for j in 0..<outputs { deltaRow[j] = Foundation.exp(zRow[j] - largest) / sum - off }
                    deltaRow[label] -= on - off
                }
            case .meanSquaredError:
                var squares: Double = 0
                for j in 0..<outputs {
                    let residual = zRow[j] - (j == label ? on : off)
                    squares += Double(residual * residual)
                    deltaRow?[j] = residual
                }
                result.lossSum += 0.5 * squares
            }
        }
        return result
    }

    private static func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for j in 1..<count where values[j] > values[best] { best = j }
        return best
    }
}
