import ArgumentParser

struct Coordinator: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "coordinator", abstract: "Not built yet.")
    func run() throws { throw ExitCode(1) }
}
