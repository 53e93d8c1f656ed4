import ArgumentParser
import Cluster
import Wire

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Coordinator plus N worker processes on this machine, over a Unix socket.")

    @Option(help: "Worker processes to start.")
    var workers: Int
    @Option(help: "How gradients are reduced: central (the coordinator averages and updates) or ring (workers reduce among themselves, each updating a slice).")
    var collective: CollectiveKind = .central
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var logging: OutputOptions

    func run() throws {
        // A Unix socket in a private folder: on one machine it costs the kernel
        // half what loopback TCP does per byte (measured: coordinator system
        // time 0.5 s against 1.1-1.5 s per Fashion-MNIST epoch with 2 workers).
        let socketFolder = try SocketFolder()
        let output = logging.output
        let job = try cluster.job(
            listen: "ipc://\(socketFolder.path)/coordinator", workers: workers, allowed: 1...256, collective: collective)
        let run = try training.prepare(output: output)
        try finish(job.simulate(run, output: output), run: run, output: output)
    }
}
