import ArgumentParser

struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Not built yet.")
    func run() throws { throw ExitCode(1) }
}
