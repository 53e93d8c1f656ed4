/// Stochastic gradient descent with momentum and L2 weight decay.
///
/// PyTorch's SGD, so results can be compared with it. With d = g + λw:
///
///     v ← μv + d
///     classical:  w ← w − lr·v
///     Nesterov:   w ← w − lr·(d + μv)     (using the new v)
///
/// The velocity starts at zero, so the first step is plain SGD; the
/// learning rate is passed per step because the schedule owns it.
///
/// One deliberate difference from PyTorch: a velocity smaller in magnitude
/// than `velocityFloor` is stored as zero (see `optimiserStateFloor`).
public final class SGD: Optimiser {
    public static let velocityFloor = optimiserStateFloor

    public let settings: OptimiserSettings
    public let velocity: ParameterBuffer

    public init(parameterCount: Int, settings: OptimiserSettings) {
        self.settings = settings
        velocity = ParameterBuffer(count: parameterCount)
    }

    public var parameterCount: Int { velocity.count }
    public var state: ParameterBuffer { velocity }

    /// SGD has no step count: `step` is not used.
    public func step(range: Range<Int>, parameters: UnsafeMutableBufferPointer<Float>,
                     gradient: UnsafeBufferPointer<Float>, learningRate: Float, step: Int) {
        self.step(range: range, parameters: parameters, gradient: gradient, learningRate: learningRate)
    }

    /// Updates every parameter from an averaged gradient.
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     learningRate: Float) {
        step(range: 0..<velocity.count, parameters: parameters, gradient: gradient, learningRate: learningRate)
    }

    /// Updates only the parameters and velocity at `range`; `parameters` and
    /// `gradient` are the whole buffers. Each element's update depends on
    /// that element alone, so updating disjoint ranges (one per worker)
    /// gives exactly the bits of one whole update.
    public func step(range: Range<Int>, parameters: UnsafeMutableBufferPointer<Float>,
                     gradient: UnsafeBufferPointer<Float>, learningRate: Float) {
        precondition(parameters.count == velocity.count && gradient.count == velocity.count,
                     "parameters, gradient and velocity must have the same size")
        precondition(range.clamped(to: 0..<velocity.count) == range, "range \(range) outside the parameters")
        let w = parameters.baseAddress! + range.lowerBound
        let g = gradient.baseAddress! + range.lowerBound
        let v = velocity.values.baseAddress! + range.lowerBound
        let lr = learningRate, mu = settings.momentum, lambda = settings.weightDecay, floor = Self.velocityFloor
        if settings.nesterov {
            for i in 0..<range.count {
                let d = g[i] + lambda * w[i]
                let velocity = mu * v[i] + d
                v[i] = abs(velocity) < floor ? 0 : velocity
                w[i] -= lr * (d + mu * v[i])
            }
        } else {
            for i in 0..<range.count {
                let velocity = mu * v[i] + (g[i] + lambda * w[i])
                v[i] = abs(velocity) < floor ? 0 : velocity
                w[i] -= lr * v[i]
            }
        }
    }
}
