import Clock
import Cluster
import Foundation
import Training
import Wire
import XCTest

/// Two faults the in-process rig found: a busy coordinator dropped members whose
/// heartbeats were waiting in its queue, and a worker refused twice gave up.
final class RejoinAfterBusyCoordinatorTests: XCTestCase {
    /// The coordinator does not receive for longer than the peer timeout
    /// (as at an epoch's end: evaluation, metrics, checkpoint), while its
    /// workers keep sending heartbeats. No member was silent.
    func testMembersWhoseHeartbeatsWaitInTheQueueAreNotDroppedAfterTheCoordinatorWasBusy() throws {
        let rig = try CoordinatorRig(.central)
        defer { rig.shutdown() }
        let run = rig.run
        let a = try rig.addWorker("a") { $0.answerHonestly(run) }
        let b = try rig.addWorker("b") { $0.answerHonestly(run) }
        try rig.attempt { try $0.waitForWorkers(2) }
        try run.load(rig.coordinator)
        var tallies = try rig.steps(1)
        // The coordinator is busy for 600 ms; the workers are not (they are other processes).
        let busy = Deadline(milliseconds: 600)
        while !busy.hasPassed {
            try a.tick()
            try b.tick()
            usleep(1_000)
        }
        tallies += try rig.steps(1, from: 1)
        try rig.outcome(tallies).assertIdentical(to: try run.reference(steps: 2), "after a busy coordinator")
        XCTAssertEqual(rig.log.matching("silent for over").count, 0, "\(rig.log.all)")
        XCTAssertEqual(a.refusals + b.refusals, [])
        XCTAssertEqual(rig.coordinator.workerCount, 2)
    }

    /// A worker declared dead while alive may have sent more than one
    /// message before the coordinator's first Refuse reaches it (a late
    /// gradient and a heartbeat, say): each is refused. It should join again.
    func testAWorkerRefusedTwiceAsANonMemberJoinsAgain() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context: context, kind: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        defer { router.close() }
        let worker = try Worker(
            coordinator: endpoint, ringListen: "tcp://127.0.0.1:*",
            timing: ClusterSettings(heartbeatMilliseconds: 20, peerTimeoutMilliseconds: 5_000), output: .silent)
        let welcome = Welcome(workerID: 1, shardSize: 4, heartbeatMilliseconds: 20, peerTimeoutMilliseconds: 5_000,
                              activation: "tanh", loss: "cross-entropy", layerSizes: [16, 8, 3])
        var hellos = 0
        let watchdog = Deadline(seconds: 10)
        let exit = try worker.run(stopSignal: {
            while let (peer, frames) = try? router.tryReceiveRouted() {
                guard case .hello = try? WireMessage.decode(frames, limits: .beforeWelcome) else { continue }
                hellos += 1
                if hellos == 1 {
                    try? router.send(to: peer, WireMessage.welcome(welcome).encode())
                    for _ in 0..<2 {
                        try? router.send(to: peer, WireMessage.refuse(reason: "not a member of this run; say hello to join").encode())
                    }
                } else {
                    try? router.send(to: peer, WireMessage.shutdown(reason: "test over").encode())
                }
            }
            return watchdog.hasPassed ? SIGALRM : nil
        })
        XCTAssertEqual(exit, .toldToStop, "hellos: \(hellos)")
    }
}
