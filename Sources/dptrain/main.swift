import ArgumentParser
import Foundation
import MLP
import Training

/// The executable: one file per subcommand, each parsing its flags and
/// calling a library.
struct DPTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dptrain",
        abstract: "Data-parallel MLP training on MNIST-format data over ZeroMQ.",
        subcommands: [
            Train.self, Simulate.self, Coordinator.self, Worker.self, Launch.self,
            Evaluate.self, FetchData.self, Keygen.self, Export.self, Predict.self,
            ReportCommand.self,
        ])
}

BLASKernelChoice.pinKernelsByReexecuting()

// Parsing by hand so that bad usage exits 2 with one line, as DESIGN.md
// promises, rather than ArgumentParser's 64 and a usage dump.
do {
    // A preset's flags go before the user's, which therefore override them.
    var command = try DPTrain.parseAsRoot(Array(try Presets.expand(CommandLine.arguments).dropFirst()))
    try command.run()
} catch {
    exit(ExitStatus.report(error))
}
