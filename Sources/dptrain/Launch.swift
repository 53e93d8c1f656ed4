import ArgumentParser
import Cluster
import Foundation
import Training
import Wire

/// `dptrain launch`: the one command every task of a Slurm, MPI,
/// torchrun-style or Kubernetes job runs. It reads the launcher's
/// environment (LaunchRole), and rank 0 runs the coordinator for the other
/// ranks, which run workers.
struct Launch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one task of a cluster job: rank 0 coordinates, the others work (Slurm, MPI, torchrun, Kubernetes).",
        discussion: """
            The rank and world size come from the launcher: SLURM_PROCID/SLURM_NTASKS, \
            OMPI_COMM_WORLD_RANK/SIZE (or PMIX_RANK), RANK/WORLD_SIZE, or a Kubernetes Indexed Job's \
            JOB_COMPLETION_INDEX with WORLD_SIZE. The coordinator is reached at MASTER_ADDR:MASTER_PORT, or, \
            under Slurm, the first host of SLURM_JOB_NODELIST; without a port, rank 0 binds a free one and \
            publishes its endpoint in the run directory (--out), which the workers read. \
            CURVE: rank 0 takes --curve-secret-key and --authorized-keys, workers --curve-secret-key and \
            --coordinator-key; each flag not given is read from DPTRAIN_CURVE_SECRET_KEY, DPTRAIN_AUTHORIZED_KEYS \
            or DPTRAIN_COORDINATOR_KEY, holding the key's (or the list's) text, as a Kubernetes Secret fills them.
            """)

    @Option(help: "This task's rank (overrides the launcher's).")
    var rank: Int?
    @Option(name: .customLong("world-size"), help: "Tasks in the job, coordinator included (overrides the launcher's).")
    var worldSize: Int?
    @Option(name: .customLong("coordinator-host"), help: "Where rank 0 is reached (overrides MASTER_ADDR and the node list).")
    var coordinatorHost: String?
    @Option(help: "Rank 0's TCP port (overrides MASTER_PORT; without one, rank 0 takes a free port and publishes it).")
    var port: Int?
    @Option(help: "Rank 0 listens here (default tcp://0.0.0.0:PORT).")
    var listen: String?
    @Option(help: "How gradients are reduced: central or ring.")
    var collective: CollectiveKind = .central
    @Option(name: .customLong("ring-listen"), help: "Workers: where to take ring traffic, e.g. tcp://POD_IP:* (default: every interface, announced under this host's name).")
    var ringListen: String?
    @Option(name: .customLong("rejoin-timeout"), help: "Workers: seconds to keep trying to join again after the coordinator went silent for the peer timeout (a cut link, a busy network); 0: exit 1 at once.")
    var rejoinTimeoutSeconds: Double = Cluster.Worker.defaultRejoinTimeoutSeconds
    @OptionGroup var keyOptions: LaunchKeyOptions
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var logging: OutputOptions

    func run() throws {
        let output = try logging.output
        let environment = ProcessInfo.processInfo.environment
        let role = try LaunchRole.read(
            environment: environment, hostName: ProcessInfo.processInfo.hostName,
            overrides: LaunchOverrides(rank: rank, worldSize: worldSize, coordinatorHost: coordinatorHost, port: port))
        let settings = try cluster.settings()
        guard rejoinTimeoutSeconds >= 0 else { throw UsageError("--rejoin-timeout: must be 0 or more, got \(rejoinTimeoutSeconds)") }
        // Keys are checked before anything is said or made, on the rank that uses them.
        let keys = keyOptions.keys(environment: environment)
        let coordinatorCurve = role.isCoordinator ? try keys.coordinatorCurve() : nil
        let workerCurve = role.isCoordinator ? nil : try keys.workerCurve()
        let folder = URL(fileURLWithPath: training.resume ?? training.out ?? "runs/latest")
        let rendezvous = Rendezvous(folder: folder, jobID: role.jobID)
        output.info("launch: \(role.launcher) rank \(role.rank) of \(role.worldSize)")
        if role.isCoordinator {
            let endpoint = listen ?? "tcp://0.0.0.0:\(role.port.map(String.init) ?? "*")"
            var job = CoordinatorJob(listen: endpoint, workers: role.workers, collective: collective, settings: settings)
            job.curve = coordinatorCurve
            let run = try training.prepare(output: output)
            rendezvous.clear()
            try finish(job.run(run, output: output) { bound in
                guard role.port == nil || role.coordinatorHost == nil else { return }
                let published = Self.reachable(bound, host: role.coordinatorHost)
                try rendezvous.publish(published)
                output.info("launch: published \(published) in \(rendezvous.file.path)")
            }, run: run, output: output)
            return
        }
        let endpoint: String
        if let host = role.coordinatorHost, let port = role.port {
            endpoint = "tcp://\(host):\(port)"
        } else {
            guard let published = rendezvous.wait(seconds: settings.joinTimeoutSeconds) else {
                throw LaunchEnvironmentError(
                    variable: "MASTER_PORT",
                    problem: "not set, and rank 0 published no endpoint in \(rendezvous.file.path) within \(Int(settings.joinTimeoutSeconds)) s (is --out on a shared file system?)")
            }
            endpoint = published
        }
        SignalTrap.install([SIGTERM])
        // The job's tasks start in any order (a pod waits for its image, a
        // host for ssh): until its first welcome, a worker waits for rank 0
        // as long as rank 0 waits for the workers.
        var joining = settings
        joining.peerTimeoutMilliseconds = max(settings.peerTimeoutMilliseconds, Int(settings.joinTimeoutSeconds * 1000))
        let worker = try Cluster.Worker(
            coordinator: endpoint, ringListen: RingEndpoint.listen(coordinator: endpoint, requested: ringListen),
            timing: joining, curve: workerCurve, rejoinTimeoutSeconds: rejoinTimeoutSeconds, output: output)
        switch try worker.run(stopSignal: { SignalTrap.caught }) {
        case .toldToStop: return
        case .refused: throw ExitCode(2)
        case .coordinatorGone, .parentGone: throw ExitCode(1)
        case .signalled(let signal): throw ExitCode(SignalTrap.exitStatus(for: signal))
        }
    }

    /// The bound endpoint as the others reach it: a wildcard address becomes
    /// the launcher's coordinator host, or this host's name.
    static func reachable(_ bound: String, host: String?) -> String {
        for wildcard in ["tcp://0.0.0.0:", "tcp://[::]:"] where bound.hasPrefix(wildcard) {
            return "tcp://\(host ?? ProcessInfo.processInfo.hostName):" + bound.dropFirst(wildcard.count)
        }
        return bound
    }
}
