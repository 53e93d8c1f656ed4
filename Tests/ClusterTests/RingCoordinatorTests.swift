import Cluster
import Training
import Wire
import XCTest

/// The ring collective's orchestration, with real sockets and scripted
/// members that never compute (the coordinator never sees ring gradients:
/// it trusts each member's RingDone).
final class RingCoordinatorTests: CoordinatorRigTestCase {
    /// What the coordinator should add up from the members' reports of `step`.
    private func expectedTally(_ step: UInt64, from members: [ScriptedWorker]) -> StepTally {
        var tally = StepTally()
        for work in members.flatMap(\.ringWorks) where work.step == step {
            guard case .ringDone(let done) = RingReport.done(work) else { continue }
            tally.add(lossFixed: done.lossSumFixedPoint, correct: Int(done.correct), samples: Int(done.sampleCount))
        }
        return tally
    }

    /// Step 1's work goes out during step 0. Member a finishes both steps at
    /// once; b reports step 0 only after the coordinator has handled a's
    /// report of step 1 (a heartbeat fence), and step 1 only once step 0 has
    /// returned. a's early report must count for step 1: it is not sent again.
    func testAnEarlyReportOfTheStepSentAheadCountsForThatStep() throws {
        rig = try CoordinatorRig(.ring)
        rig.failOnRejection = true
        let run = rig.run
        var fence: Int?
        var stepZeroReturned = false
        var reportedByA: [UInt64] = []
        let a = try rig.addWorker("a") { worker in
            worker.onMessage = { message, worker in
                guard case .ringWork(let work) = message else { return }
                try worker.send(RingReport.done(work))
                reportedByA.append(work.step)
                if work.step == 1 { fence = try worker.fence() }
            }
        }
        var heldByB: [RingWork] = []
        var reportedBeforeB: [UInt64] = []
        let b = try rig.addWorker("b") { worker in
            worker.onMessage = { message, _ in
                if case .ringWork(let work) = message { heldByB.append(work) }
            }
            worker.onTick = { worker in
                guard let work = heldByB.first else { return }
                let due = work.step == 0 ? fence.map(a.hasPassed) == true : stepZeroReturned
                guard due else { return }
                if work.step == 0 { reportedBeforeB = reportedByA }
                try worker.send(RingReport.done(work))
                heldByB.removeFirst()
            }
        }
        try rig.attempt { try $0.waitForWorkers(2) }
        try run.load(rig.coordinator)

        let first = try rig.attempt { try $0.step(run.work(0), learningRate: run.rate, next: run.upcoming(1)) }
        stepZeroReturned = true
        let second = try rig.attempt { try $0.step(run.work(1), learningRate: run.rate, next: nil) }

        XCTAssertEqual(reportedBeforeB, [0, 1], "a had not reported both steps before b reported step 0")
        XCTAssertEqual(a.ringWorks.map(\.step), [0, 1], "step 1's work went out once, ahead")
        XCTAssertEqual(b.ringWorks.map(\.step), [0, 1])
        XCTAssertEqual(first, expectedTally(0, from: [a, b]))
        XCTAssertEqual(second, expectedTally(1, from: [a, b]), "a's early report of step 1 was not counted")
        XCTAssertEqual(second.samples, run.work(1).sampleCount)
        XCTAssertEqual(rig.coordinator.rejectedMessages, 0, "\(rig.log.matching("rejected"))")
    }
}
