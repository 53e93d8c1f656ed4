import Clock
import Cluster
import Foundation
import Training
import Wire
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A worker and a coordinator that lose each other (a cut link looks the
/// same from both ends): the worker says hello again and waits up to its
/// rejoin timeout, and a coordinator that still counts it takes the new
/// hello as a fresh start.
final class WorkerRejoinTests: CoordinatorRigTestCase {
    private let welcome = Welcome(workerID: 1, shardSize: 4, heartbeatMilliseconds: 20, peerTimeoutMilliseconds: 200,
                                  activation: "tanh", loss: "cross-entropy", layerSizes: [16, 8, 3])

    func testAWorkerWhoseCoordinatorFellSilentSaysHelloAgainAndJoins() throws {
        let (exit, hellos) = try playCoordinator(rejoinTimeoutSeconds: 5) { hello in
            switch hello {
            case 1: return [.welcome(self.welcome)]
            case 2: return [.welcome(self.welcome)]   // after 200 ms of silence: welcomed again
            default: return [.shutdown(reason: "test over")]   // silent once more: stop it
            }
        }
        XCTAssertEqual(exit, .toldToStop, "hellos: \(hellos)")
        XCTAssertEqual(hellos, 3, "a hello at the start and one after each silence")
    }

    func testAWorkerWhoseCoordinatorNeverAnswersAgainExitsAfterItsRejoinTimeout() throws {
        let (exit, hellos) = try playCoordinator(rejoinTimeoutSeconds: 0.3) { $0 == 1 ? [.welcome(self.welcome)] : [] }
        XCTAssertEqual(exit, .coordinatorGone)
        XCTAssertEqual(hellos, 2)
    }

    func testWithoutARejoinTimeoutASilentCoordinatorEndsTheWorker() throws {
        let (exit, hellos) = try playCoordinator(rejoinTimeoutSeconds: 0) { $0 == 1 ? [.welcome(self.welcome)] : [] }
        XCTAssertEqual(exit, .coordinatorGone)
        XCTAssertEqual(hellos, 1)
    }

    /// The root of a cut-link rejoin that failed: the hello after a silence
    /// came on the old connection, behind which the coordinator's frames for
    /// the old session (and, after a real cut, its retransmission backoff)
    /// still waited. It must come from a new connection: a new routing
    /// identity, which nothing sent to the old one can reach. Here the
    /// stale frame is a shutdown sent to the old identity as the second
    /// hello arrives: delivered, it would end the worker before its welcome.
    func testAfterASilenceTheWorkerSaysHelloOnANewConnectionThatStaleFramesCannotReach() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context: context, kind: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        defer { router.close() }
        let log = LogLines()
        let worker = try Worker(
            coordinator: endpoint, ringListen: "tcp://127.0.0.1:*",
            timing: ClusterSettings(heartbeatMilliseconds: 20, peerTimeoutMilliseconds: 5_000),
            output: Output(people: { _ in }, log: { log.append($0) }))
        var helloPeers: [PeerID] = []
        let watchdog = Deadline(seconds: 10)
        let exit = try worker.run(stopSignal: {
            while let (peer, frames) = try? router.tryReceiveRouted() {
                guard case .hello = try? WireMessage.decode(frames, limits: .beforeWelcome) else { continue }
                helloPeers.append(peer)
                switch helloPeers.count {
                case 1:
                    try? router.send(to: peer, WireMessage.welcome(self.welcome).encode())
                case 2:
                    // Silent for 200 ms since the welcome: the worker started over.
                    try? router.send(to: helloPeers[0], WireMessage.shutdown(reason: "stale: for the old session").encode())
                    try? router.send(to: peer, WireMessage.welcome(self.welcome).encode())
                default:
                    try? router.send(to: peer, WireMessage.shutdown(reason: "test over").encode())
                }
            }
            return watchdog.hasPassed ? SIGALRM : nil
        })
        XCTAssertEqual(exit, .toldToStop, "\(log.all)")
        XCTAssertEqual(helloPeers.count, 3, "a stale frame reached the new session: \(log.all)")
        XCTAssertEqual(Set(helloPeers).count, helloPeers.count, "a hello after a silence came on the old connection")
        XCTAssertFalse(log.all.contains { $0.contains("stale") }, "\(log.all)")
    }

    /// Worker a, still a member, says hello again in step 1 (it lost the
    /// coordinator before the coordinator lost it): it is dropped, its
    /// shards go to b, and it is welcomed anew; the result is train's.
    func testAHelloFromAMemberStartsItOverAndTheResultIsUnchanged() throws {
        rig = try CoordinatorRig(.central)
        let run = rig.run
        let gradients = HonestGradients(architecture: run.architecture, shardSize: run.configuration.shardSize)
        let a = try rig.addWorker("a") { worker in
            worker.onMessage = { message, worker in
                guard case .work(let work) = message else { return }
                if work.step == 1, worker.welcomes == 1 {
                    worker.forgetWelcome()
                    return try worker.hello()
                }
                try worker.send(try gradients.reply(to: work))
            }
        }
        try rig.addWorker("b") { $0.answerHonestly(run) }
        try rig.attempt { try $0.waitForWorkers(2) }
        try run.load(rig.coordinator)

        let outcome = try rig.outcome(try rig.steps(3))

        outcome.assertIdentical(to: try run.reference(steps: 3), "a member that said hello again in step 1")
        XCTAssertEqual(rig.log.matching("said hello again").count, 1, "\(rig.log.all)")
        XCTAssertEqual(a.welcomes, 2)
        XCTAssertEqual(rig.coordinator.rejectedMessages, 0, "\(rig.log.all)")
        XCTAssertEqual(rig.coordinator.workerCount, 2)
    }
}

/// A real Worker against a ROUTER the test plays: hello number N (from 1)
/// is answered with `answer(N)`, and nothing else is ever sent. Ends when
/// the worker does, or after 10 s (as if signalled).
func playCoordinator(
    peerTimeoutMilliseconds: Int = 5_000, rejoinTimeoutSeconds: Double = Worker.defaultRejoinTimeoutSeconds,
    answer: (Int) -> [WireMessage]
) throws -> (Worker.Exit, hellos: Int) {
    let context = try ZMQContext()
    let router = try ZMQSocket(context: context, kind: .router)
    let endpoint = try router.bind("tcp://127.0.0.1:*")
    defer { router.close() }
    let worker = try Worker(
        coordinator: endpoint, ringListen: "tcp://127.0.0.1:*",
        timing: ClusterSettings(heartbeatMilliseconds: 20, peerTimeoutMilliseconds: peerTimeoutMilliseconds),
        rejoinTimeoutSeconds: rejoinTimeoutSeconds, output: .silent)
    var hellos = 0
    let watchdog = Deadline(seconds: 10)
    let exit = try worker.run(stopSignal: {
        while let (peer, frames) = try? router.tryReceiveRouted() {
            guard case .hello = try? WireMessage.decode(frames, limits: .beforeWelcome) else { continue }
            hellos += 1
            for reply in answer(hellos) { try? router.send(to: peer, reply.encode()) }
        }
        return watchdog.hasPassed ? SIGALRM : nil
    })
    return (exit, hellos)
}
