import ArgumentParser

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Not built yet.")
    func run() throws { throw ExitCode(1) }
}
