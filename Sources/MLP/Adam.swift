import Foundation

/// Adam and AdamW, as PyTorch computes them, at step t = step + 1:
///
///     Adam:   d = g + λw               AdamW:  w ← w·(1 − lr·λ),  d = g
///     m ← β1·m + (1 − β1)·d
///     v ← β2·v + (1 − β2)·d²
///     w ← w − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
///
/// The bias corrections depend only on t, so they are computed once per
/// step in Double and rounded to Float once; every member of a ring gets
/// the same bits for its slice. State planes: m, then v. Like SGD's
/// velocity, a moment below `optimiserStateFloor` is stored as zero.
public final class Adam: Optimiser {
    public let settings: OptimiserSettings
    public let parameterCount: Int
    public let state: ParameterBuffer

    public init(parameterCount: Int, settings: OptimiserSettings) {
        precondition(settings.kind == .adam || settings.kind == .adamw, "Adam with \(settings.kind) settings")
        self.settings = settings
        self.parameterCount = parameterCount
        state = ParameterBuffer(count: 2 * parameterCount)
    }

    /// The first moment, m.
    public var firstMoment: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: state.values[0..<parameterCount])
    }

    /// The second moment, v.
    public var secondMoment: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: state.values[parameterCount..<(2 * parameterCount)])
    }

    public func step(range: Range<Int>, parameters: UnsafeMutableBufferPointer<Float>,
                     gradient: UnsafeBufferPointer<Float>, learningRate: Float, step: Int) {
        precondition(parameters.count == parameterCount && gradient.count == parameterCount,
                     "parameters, gradient and moments must have the same size")
        precondition(range.clamped(to: 0..<parameterCount) == range, "range \(range) outside the parameters")
        precondition(step >= 0, "step \(step) is negative")
        let t = Double(step + 1)
        let b1 = settings.beta1, b2 = settings.beta2, eps = settings.epsilon, floor = optimiserStateFloor
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(b1), t)))
        let correction2 = Float((1 - pow(Double(b2), t)).squareRoot())
        let decoupled = settings.kind == .adamw
        let lambda = decoupled ? 0 : settings.weightDecay
        let shrink = decoupled ? 1 - learningRate * settings.weightDecay : 1
        let w = parameters.baseAddress! + range.lowerBound
        let g = gradient.baseAddress! + range.lowerBound
        let m = state.values.baseAddress! + range.lowerBound
        let v = m + parameterCount
        for i in 0..<range.count {
            let weight = w[i] * shrink
            let d = g[i] + lambda * weight
            let first = b1 * m[i] + (1 - b1) * d
            let second = b2 * v[i] + (1 - b2) * (d * d)
            m[i] = abs(first) < floor ? 0 : first
            v[i] = second < floor ? 0 : second
            w[i] = weight - stepSize * m[i] / (v[i].squareRoot() / correction2 + eps)
        }
    }
}
