import ArgumentParser
import Cluster

/// `dptrain coordinator`: trains through workers that connect to it.
struct Coordinator: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Own the data and the model; train through workers that connect over ZeroMQ.")

    @Option(help: "ZeroMQ endpoint to listen on, e.g. tcp://0.0.0.0:5555.")
    var listen = "tcp://0.0.0.0:5555"
    @OptionGroup var options: CoordinatorOptions

    func run() throws {
        try options.run(listen: listen, allowed: 1...4096) { job, run, output in try job.run(run, output: output) }
    }
}
