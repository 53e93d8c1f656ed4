import ArgumentParser
import Cluster

/// `dptrain simulate`: the coordinator and its workers as processes on this machine.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Coordinator plus N worker processes on this machine, over a Unix socket.")

    @Flag(help: "CURVE on every connection, with a key pair per process made for this run (in its private socket folder).")
    var secure = false
    @OptionGroup var options: CoordinatorOptions

    func run() throws {
        guard options.curve.curveSecretKey == nil && options.curve.authorizedKeys == nil else {
            throw UsageError("simulate makes its own keys: use --secure, not --curve-secret-key or --authorized-keys")
        }
        // A Unix socket in a private folder: on one machine it costs the kernel
        // half what loopback TCP does per byte (measured: coordinator system
        // time 0.5 s against 1.1-1.5 s per Fashion-MNIST epoch with 2 workers).
        let socketFolder = try SocketFolder()
        try options.run(listen: "ipc://\(socketFolder.path)/coordinator", allowed: 1...256) { job, run, output in
            var job = job
            if secure { job.ephemeralKeyFolder = socketFolder.path }
            return try job.simulate(run, output: output)
        }
    }
}
