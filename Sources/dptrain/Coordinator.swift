import ArgumentParser
import Cluster
import Wire

struct Coordinator: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Own the data and the model; train through workers that connect over ZeroMQ.")

    @Option(help: "ZeroMQ endpoint to listen on, e.g. tcp://0.0.0.0:5555.")
    var listen = "tcp://0.0.0.0:5555"
    @Option(help: "Workers to wait for before the first step.")
    var workers: Int
    @Option(help: "How gradients are reduced: central (the coordinator averages and updates) or ring (workers reduce among themselves, each updating a slice).")
    var collective: CollectiveKind = .central
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var logging: OutputOptions

    func run() throws {
        let output = logging.output
        let job = try cluster.job(listen: listen, workers: workers, allowed: 1...4096, collective: collective)
        let run = try training.prepare(output: output)
        try finish(job.run(run, output: output), run: run, output: output)
    }
}
