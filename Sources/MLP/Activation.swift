import Foundation

/// The nonlinearity of the hidden layers; the output layer stays linear and
/// feeds the loss.
public enum Activation: String, CaseIterable, Sendable {
    case relu
    /// max(z, 0.01·z)
    case leakyRelu = "leaky-relu"
    case sigmoid
    case tanh

    /// Looks a name up as written on the command line ("relu", "leaky-relu", ...).
    public init(name: String) throws {
        guard let activation = Activation(rawValue: name) else { throw ArchitectureError.unknownActivation(name) }
        self = activation
    }

    public static let leakySlope: Float = 0.01

    /// a = f(z), in place.
    func apply(_ z: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            for i in 0..<count { z[i] = z[i] > 0 ? z[i] : 0 }
        case .leakyRelu:
            for i in 0..<count { z[i] = z[i] > 0 ? z[i] : z[i] * Self.leakySlope }
        case .sigmoid:
            for i in 0..<count { z[i] = 1 / (1 + Foundation.exp(-z[i])) }
        case .tanh:
            for i in 0..<count { z[i] = Foundation.tanh(z[i]) }
        }
    }

    /// δ ← δ ⊙ f'(z). Each derivative is written in terms of a = f(z), so the
    /// forward pass only has to keep the activations, not the
    /// pre-activations.
    func multiplyDerivative(_ delta: UnsafeMutablePointer<Float>, activated a: UnsafePointer<Float>, count: Int) {
        switch self {
        // Loading δ before choosing lets the compiler turn the choice into a
        // vector blend; a load on one branch only must stay a branch.
        case .relu:
            for i in 0..<count { let d = delta[i]; delta[i] = a[i] > 0 ? d : 0 }
        case .leakyRelu:
            for i in 0..<count { let d = delta[i]; delta[i] = a[i] > 0 ? d : d * Self.leakySlope }
        case .sigmoid:
            for i in 0..<count { delta[i] *= a[i] * (1 - a[i]) }
        case .tanh:
            for i in 0..<count { delta[i] *= 1 - a[i] * a[i] }
        }
    }
}
