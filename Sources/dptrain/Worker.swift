import ArgumentParser
import Cluster
import Foundation
import Training
import Wire

/// `dptrain worker`: serves one coordinator until it says stop.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute gradients for a coordinator; needs no data files.",
        discussion: "Once welcomed, the worker takes the run's --heartbeat-ms and --peer-timeout-ms from the coordinator; its own apply while it joins. With no answer within its --peer-timeout-ms (a wrong --coordinator-key, a key the coordinator does not authorise, a wrong address), it exits 1 saying so. Once welcomed, a coordinator silent for the peer timeout gets a new hello, and the worker exits 1 only if none answers within --rejoin-timeout.")

    @Option(help: "The coordinator's endpoint, e.g. tcp://HOST:5555.")
    var coordinator: String
    @Option(name: .customLong("ring-listen"), help: "Where to take ring traffic (ring collective), e.g. tcp://10.0.0.5:6000; default: beside the coordinator's endpoint, on a free port.")
    var ringListen: String?
    @Option(name: .customLong("curve-secret-key"), help: "This worker's CURVE secret key file (from dptrain keygen): encrypt and authenticate; needs --coordinator-key.")
    var curveSecretKey: String?
    @Option(name: .customLong("coordinator-key"), help: "The coordinator's CURVE public key, pinned: a .pub file or the 40-character Z85 key (write --coordinator-key=KEY: a key may start with '-').")
    var coordinatorKey: String?
    @Option(name: .customLong("rejoin-timeout"), help: "Seconds to keep trying to join again after the coordinator went silent for the peer timeout (a cut link, a busy network); 0: exit 1 at once.")
    var rejoinTimeoutSeconds: Double = Cluster.Worker.defaultRejoinTimeoutSeconds
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var logging: OutputOptions
    @Option(name: .customLong("protocol-version"), help: .hidden)
    var protocolVersion: UInt16 = wireProtocolVersion
    /// A test hook, hidden: adds this to every fixed-point gradient value the
    /// worker sends or digests (either collective), to play a lying worker.
    @Option(name: .customLong("lie-offset"), help: .hidden)
    var lieOffset: Int64 = 0

    func run() throws {
        let parent = ProcessInfo.processInfo.environment["DPTRAIN_PARENT_PID"].flatMap { Int32($0) }
        if parent != nil {
            // Under simulate, the coordinator decides when workers stop; a
            // terminal's Ctrl-C reaches the whole process group.
            SignalTrap.ignoreInterrupts()
        }
        SignalTrap.install([SIGTERM])
        guard rejoinTimeoutSeconds >= 0 else { throw UsageError("--rejoin-timeout: must be 0 or more, got \(rejoinTimeoutSeconds)") }
        let curve = try workerCurve()
        let worker = try Cluster.Worker(
            coordinator: coordinator, ringListen: RingEndpoint.listen(coordinator: coordinator, requested: ringListen),
            timing: try cluster.settings(), parentProcess: parent, protocolVersion: protocolVersion, curve: curve,
            rejoinTimeoutSeconds: rejoinTimeoutSeconds, output: try logging.output)
        worker.lieOffset = lieOffset
        switch try worker.run(stopSignal: { SignalTrap.caught }) {
        case .toldToStop: return
        case .refused: throw ExitCode(2)
        case .coordinatorGone, .parentGone: throw ExitCode(1)
        case .signalled(let signal): throw ExitCode(SignalTrap.exitStatus(for: signal))
        }
    }

    private func workerCurve() throws -> WorkerCurve? {
        switch (curveSecretKey, coordinatorKey) {
        case (nil, nil): return nil
        case (let secret?, let coordinator?):
            return WorkerCurve(keys: try CurveKeyFile.readSecret(secret),
                               coordinatorKey: try CurveKeyFile.readPublic(fileOrKey: coordinator))
        case (nil, _): throw UsageError("--coordinator-key needs --curve-secret-key")
        case (_, nil): throw UsageError("--curve-secret-key needs --coordinator-key (the coordinator's public key)")
        }
    }
}
