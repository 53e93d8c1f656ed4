/// Why a checkpoint cannot be resumed from: the file is missing, damaged,
/// foreign, of another format version, or written for another run.
/// The command line maps it to exit status 2 (bad input).
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): cannot resume: \(problem)" }
}
