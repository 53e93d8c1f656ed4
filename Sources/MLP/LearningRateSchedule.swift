import Foundation

/// The learning rate as a pure function of where training is (epoch and
/// global step), so a run resumed from a checkpoint sees the same rates.
/// Epochs and steps count from 0. Computed in Double, rounded to Float once.
public struct LearningRateSchedule: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case constant
        /// base · decay^epoch: the decay is multiplied in once per epoch.
        case exponential(decay: Double)
        /// base · gamma^⌊epoch / everyEpochs⌋.
        case step(everyEpochs: Int, gamma: Double)
        /// From base down to `floor` (an absolute rate, like PyTorch's
        /// eta_min) along half a cosine over totalEpochs, advancing every
        /// step; it stays at `floor` afterwards.
        case cosine(totalEpochs: Int, floor: Double)
    }

    public let kind: Kind
    /// Over the first warmupSteps global steps the rate is scaled by
    /// (step + 1) / warmupSteps; 0 means no warm-up.
    public let warmupSteps: Int

    public init(kind: Kind = .constant, warmupSteps: Int = 0) throws {
        switch kind {
        case .constant: break
        case .exponential(let decay):
            guard decay > 0 else { throw ScheduleError("decay \(decay) must be positive") }
        case .step(let everyEpochs, let gamma):
            guard everyEpochs >= 1 else { throw ScheduleError("step every \(everyEpochs) epochs must be at least 1") }
            guard gamma > 0 else { throw ScheduleError("step factor \(gamma) must be positive") }
        case .cosine(let totalEpochs, let floor):
            guard totalEpochs >= 1 else { throw ScheduleError("cosine over \(totalEpochs) epochs must be at least 1") }
            guard floor >= 0 else { throw ScheduleError("cosine floor \(floor) must not be negative") }
        }
        guard warmupSteps >= 0 else { throw ScheduleError("warm-up of \(warmupSteps) steps must not be negative") }
        self.kind = kind
        self.warmupSteps = warmupSteps
    }

    public func rate(base: Float, epoch: Int, globalStep: Int, stepsPerEpoch: Int) -> Float {
        precondition(epoch >= 0 && globalStep >= 0 && stepsPerEpoch >= 1, "position out of range")
        let base = Double(base)
        var rate: Double
        switch kind {
        case .constant:
            rate = base
        case .exponential(let decay):
            rate = base * pow(decay, Double(epoch))
        case .step(let everyEpochs, let gamma):
            rate = base * pow(gamma, Double(epoch / everyEpochs))
        case .cosine(let totalEpochs, let floor):
            let totalSteps = Double(totalEpochs * stepsPerEpoch)
            let progress = min(Double(globalStep) / totalSteps, 1)
            rate = floor + (base - floor) * 0.5 * (1 + cos(Double.pi * progress))
        }
        if globalStep < warmupSteps {
            rate *= Double(globalStep + 1) / Double(warmupSteps)
        }
        return Float(rate)
    }
}

public struct ScheduleError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ problem: String) { description = "learning-rate schedule: " + problem }
}
