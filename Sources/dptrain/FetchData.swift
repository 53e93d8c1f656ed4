import ArgumentParser

struct FetchData: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fetch-data", abstract: "Not built yet.")
    func run() throws { throw ExitCode(1) }
}
