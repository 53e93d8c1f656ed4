import ArgumentParser
import Cluster

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Coordinator plus N worker processes on this machine, over loopback ZeroMQ.")

    @Option(help: "Worker processes to start.")
    var workers: Int
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var training: TrainingOptions

    func run() throws {
        guard (1...256).contains(workers) else { throw UsageError("--workers: must be 1...256, got \(workers)") }
        guard cluster.minWorkers <= workers else {
            throw UsageError("--min-workers \(cluster.minWorkers) exceeds --workers \(workers)")
        }
        let prepared = try training.prepare()
        // A Unix socket in a private folder: on one machine it costs the kernel
        // half what loopback TCP does per byte (measured: coordinator system
        // time 0.5 s against 1.1-1.5 s per Fashion-MNIST epoch with 2 workers).
        let socketFolder = try SocketFolder()
        let job = CoordinatorJob(
            listen: "ipc://\(socketFolder.path)/coordinator", workers: workers, configuration: prepared.configuration,
            settings: try cluster.settings(), checkpointEvery: training.checkpointEvery, resume: prepared.resume)
        try finish(job.simulate(data: prepared.data, run: prepared.run, say: progress, log: note), run: prepared.run)
    }
}
