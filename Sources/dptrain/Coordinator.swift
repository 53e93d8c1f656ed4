import ArgumentParser
import Cluster

struct Coordinator: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Own the data and the model; train through workers that connect over ZeroMQ.")

    @Option(help: "ZeroMQ endpoint to listen on, e.g. tcp://0.0.0.0:5555.")
    var listen = "tcp://0.0.0.0:5555"
    @Option(help: "Workers to wait for before the first step.")
    var workers: Int
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var training: TrainingOptions

    func run() throws {
        guard (1...4096).contains(workers) else { throw UsageError("--workers: must be 1...4096, got \(workers)") }
        guard cluster.minWorkers <= workers else {
            throw UsageError("--min-workers \(cluster.minWorkers) exceeds --workers \(workers)")
        }
        let prepared = try training.prepare()
        let job = CoordinatorJob(
            listen: listen, workers: workers, configuration: prepared.configuration,
            settings: try cluster.settings(), checkpointEvery: training.checkpointEvery, resume: prepared.resume)
        try finish(job.run(data: prepared.data, run: prepared.run, say: progress, log: note), run: prepared.run)
    }
}
