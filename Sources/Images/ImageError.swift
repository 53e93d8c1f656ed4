/// An image file that cannot be used, named with what is wrong: bad input,
/// so the command exits 2 with this one line.
public struct ImageError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}
