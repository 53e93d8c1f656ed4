import ArgumentParser

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate", abstract: "Not built yet.")
    func run() throws { throw ExitCode(1) }
}
