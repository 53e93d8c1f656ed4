import ArgumentParser
import Cluster
import Foundation
import Training
import Wire

/// `dptrain worker`: serves one coordinator until it says stop.
struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute gradients for a coordinator; needs no data files.",
        discussion: "Once welcomed, the worker takes the run's --heartbeat-ms and --peer-timeout-ms from the coordinator; its own apply while it joins.")

    @Option(help: "The coordinator's endpoint, e.g. tcp://HOST:5555.")
    var coordinator: String
    @Option(name: .customLong("ring-listen"), help: "Where to take ring traffic (ring collective), e.g. tcp://10.0.0.5:6000; default: beside the coordinator's endpoint, on a free port.")
    var ringListen: String?
    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var logging: OutputOptions
    @Option(name: .customLong("protocol-version"), help: .hidden)
    var protocolVersion: UInt16 = wireProtocolVersion
    /// A test hook, hidden: adds this to every fixed-point gradient value the
    /// worker sends (central collective), to play a lying worker.
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
        let worker = try Cluster.Worker(
            coordinator: coordinator, ringListen: RingEndpoint.listen(coordinator: coordinator, requested: ringListen),
            timing: try cluster.settings(), parentProcess: parent, protocolVersion: protocolVersion, output: logging.output)
        worker.lieOffset = lieOffset
        switch try worker.run(stopSignal: { SignalTrap.caught }) {
        case .toldToStop: return
        case .refused: throw ExitCode(2)
        case .coordinatorGone, .parentGone: throw ExitCode(1)
        case .signalled(let signal): throw ExitCode(SignalTrap.exitStatus(for: signal))
        }
    }
}
