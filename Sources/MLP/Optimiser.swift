/// Which update rule turns an averaged gradient into new weights.
public enum OptimiserKind: String, CaseIterable, Sendable {
    case sgd
    /// Adam with L2 weight decay added to the gradient (PyTorch's Adam).
    case adam
    /// Adam with decoupled weight decay (PyTorch's AdamW).
    case adamw
}

/// Every optimiser's settings; each rule reads the fields it uses
/// (SGD: momentum, nesterov; Adam and AdamW: beta1, beta2, epsilon).
public struct OptimiserSettings: Equatable, Sendable {
    public var kind: OptimiserKind
    /// The base rate, which a `LearningRateSchedule` turns into each step's rate.
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float

    public init(kind: OptimiserKind = .sgd, learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// State values kept per parameter: SGD's velocity, or Adam's two moments.
    public var statePlanes: Int { kind == .sgd ? 1 : 2 }
}

/// An update rule with per-parameter state. The state is `statePlanes`
/// planes of `parameterCount` values, plane after plane, so a slice of the
/// parameters (a ring member's) owns the same slice of every plane.
///
/// Every rule updates each element from that element alone, so updating
/// disjoint ranges gives exactly the bits of one whole update.
public protocol Optimiser: AnyObject {
    var settings: OptimiserSettings { get }
    var parameterCount: Int { get }
    /// statePlanes × parameterCount values.
    var state: ParameterBuffer { get }
    /// Updates the parameters and state at `range` (`parameters` and
    /// `gradient` are whole buffers) for the 0-based global step `step`.
    func step(range: Range<Int>, parameters: UnsafeMutableBufferPointer<Float>,
              gradient: UnsafeBufferPointer<Float>, learningRate: Float, step: Int)
}

extension Optimiser {
    public func step(parameters: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     learningRate: Float, step: Int) {
        self.step(range: 0..<parameterCount, parameters: parameters, gradient: gradient,
                  learningRate: learningRate, step: step)
    }
}

/// The rule `settings` names, with zero state.
public func makeOptimiser(parameterCount: Int, settings: OptimiserSettings) -> Optimiser {
    switch settings.kind {
    case .sgd: return SGD(parameterCount: parameterCount, settings: settings)
    case .adam, .adamw: return Adam(parameterCount: parameterCount, settings: settings)
    }
}

/// A state value smaller in magnitude than this (2^-96) is stored as zero.
/// A state whose gradient has stopped (a dead ReLU unit) otherwise decays
/// each step through the subnormal range, and every arithmetic operation on
/// a subnormal costs x86 cores a microcode assist: the benchmark's step at
/// batch 32 spent over half its time there. Such a state moves no weight
/// by more than 2^-72 anyway.
let optimiserStateFloor: Float = 0x1p-96
