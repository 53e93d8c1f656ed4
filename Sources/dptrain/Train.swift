import ArgumentParser

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Not built yet.")
    func run() throws { throw ExitCode(1) }
}
