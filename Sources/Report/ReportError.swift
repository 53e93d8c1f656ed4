/// A run folder `report` cannot use: bad input, exit 2, one line naming it.
public struct ReportError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
