/// Stochastic gradient descent with momentum and L2 weight decay.
public struct SGDSettings: Equatable, Sendable {
    /// The base rate, which a `LearningRateSchedule` turns into each step's rate.
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float

    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }
}

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
/// than `velocityFloor` (2^-96) is stored as zero. The velocity of a weight
/// whose gradient has stopped (a dead ReLU unit) otherwise decays by μ each
/// step through the subnormal range, and every arithmetic operation on a
/// subnormal costs x86 cores a microcode assist: the benchmark's step at
/// batch 32 spent over half its time there. The floor keeps μ·v and lr·v
/// normal for any learning rate above 2^-30, and such a velocity moves no
/// weight bigger than 2^-72 anyway.
public final class SGD {
    public static let velocityFloor: Float = 0x1p-96

    public let settings: SGDSettings
    public let velocity: ParameterBuffer

    public init(parameterCount: Int, settings: SGDSettings) {
        self.settings = settings
        velocity = ParameterBuffer(count: parameterCount)
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
