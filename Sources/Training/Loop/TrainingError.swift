/// Why a run stopped short of its last epoch, other than a stop signal.
public enum TrainingError: Error, CustomStringConvertible {
    case diverged(epoch: Int, step: Int)
    case interrupted(reason: String, run: String)

    public var description: String {
        switch self {
        case .diverged(let epoch, let step):
            return "training diverged: non-finite gradient or loss in epoch \(epoch), step \(step); lower --lr"
        case .interrupted(let reason, let run):
            return "\(reason); checkpoint written: run the same command with --resume \(run) to continue"
        }
    }
}

/// A stop signal that arrived while a step was under way: the step was
/// abandoned before its update, so the state is still consistent.
public struct StopRequested: Error, CustomStringConvertible {
    public let signal: Int32

    public init(signal: Int32) { self.signal = signal }

    public var description: String { "stopped by signal \(signal)" }
}

/// A failure of the machinery around the maths (too few workers for too
/// long) after which a checkpoint lets the same command go on later.
public protocol ResumableFailure: Error {}
