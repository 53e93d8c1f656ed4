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
        let welcome = Welcome(workerID: 1, shardSize: 4, heartbeatMilliseconds: 20, peerTimeoutMilliseconds: 5_000,
                              activation: "tanh", loss: "cross-entropy", layerSizes: [16, 8, 3])
        let refuse = WireMessage.refuse(reason: "not a member of this run; say hello to join")
        let (exit, hellos) = try playCoordinator { hello in
            hello == 1 ? [.welcome(welcome), refuse, refuse] : [.shutdown(reason: "test over")]
        }
        XCTAssertEqual(exit, .toldToStop, "hellos: \(hellos)")
    }
}
