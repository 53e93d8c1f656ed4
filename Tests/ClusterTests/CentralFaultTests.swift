import Cluster
import Training
import Wire
import XCTest

/// The central collective under faults, with real sockets: two scripted
/// workers compute honest gradients, one of them misbehaves at an event of
/// its script, and the coordinator's weights and momentum must still be,
/// bit for bit, what `dptrain train` computes.
final class CentralFaultTests: CoordinatorRigTestCase {
    private func shardIDs(_ works: [Work]) -> [UInt32] { works.flatMap { $0.shards.map(\.shardID) } }

    /// Worker a takes its work for step 1 and is never heard from again.
    func testAMemberLostMidStepHandsItsShardsToTheOtherWithinTheStep() throws {
        rig = try CoordinatorRig(.central)
        let run = rig.run
        let a = try rig.addWorker("a") { $0.answerHonestly(run) }
        let honest = a.onMessage
        a.onMessage = { message, worker in
            if case .work(let work) = message, work.step == 1 {
                worker.silent = true
                return
            }
            try honest(message, worker)
        }
        let b = try rig.addWorker("b") { $0.answerHonestly(run) }
        try rig.attempt { try $0.waitForWorkers(2) }
        try run.load(rig.coordinator)

        let outcome = try rig.outcome(try rig.steps(2))

        outcome.assertIdentical(to: try run.reference(steps: 2), "a member lost in step 1")
        let lost = a.works.filter { $0.step == 1 }
        XCTAssertEqual(lost.count, 1, "a never received its work for step 1: the fault did not happen")
        XCTAssertTrue(a.silent)
        let taken = b.works.filter { $0.step == 1 }
        XCTAssertEqual(taken.count, 2, "b should get its own block, then a's")
        XCTAssertEqual(shardIDs(Array(taken.dropFirst())), shardIDs(lost), "b took over exactly a's shards")
        XCTAssertEqual(Set(shardIDs(taken)), Set(0..<8))
        // Over TCP the weights go as Floats once, then as steps from the last
        // step's, and not at all to a member that holds this step's already.
        XCTAssertEqual(b.works.map(\.weightsEncoding), [.raw, .steps, .held])
        XCTAssertEqual(taken.first?.baseStep, 0)
        XCTAssertEqual(lost.first?.weightsEncoding, .steps)
        XCTAssertEqual(rig.log.matching("silent for over 400 ms").count, 1, "\(rig.log.all)")
        XCTAssertEqual(rig.coordinator.workerCount, 1)
        XCTAssertEqual(rig.coordinator.rejectedMessages, 0)
    }

    /// Worker a sends its reply to step 0 once more while step 1 is under way.
    func testALateReplyFromAMemberIsRejectedAndChangesNothing() throws {
        rig = try CoordinatorRig(.central)
        let run = rig.run
        let gradients = HonestGradients(architecture: run.architecture, shardSize: run.configuration.shardSize)
        var stepZeroReply: WireMessage?
        let a = try rig.addWorker("a") { worker in
            worker.onMessage = { message, worker in
                guard case .work(let work) = message else { return }
                let reply = try gradients.reply(to: work)
                if work.step == 0 { stepZeroReply = reply }
                if work.step == 1, let late = stepZeroReply { try worker.send(late) }
                try worker.send(reply)
            }
        }
        try rig.addWorker("b") { $0.answerHonestly(run) }
        try rig.attempt { try $0.waitForWorkers(2) }
        try run.load(rig.coordinator)

        let outcome = try rig.outcome(try rig.steps(3))

        outcome.assertIdentical(to: try run.reference(steps: 3), "a late reply in step 1")
        XCTAssertEqual(a.works.map(\.step), [0, 1, 2])
        XCTAssertEqual(rig.coordinator.rejectedMessages, 1)
        XCTAssertEqual(rig.log.matching("gradient for step 0, not the current step").count, 1, "\(rig.log.all)")
        XCTAssertEqual(a.refusals, [], "a late reply is dropped, its sender kept")
        XCTAssertEqual(rig.coordinator.workerCount, 2)
    }

    /// Worker a goes silent on its work for step 0, is dropped, and wakes in
    /// step 1 to send that step-0 reply, then joins again as dptrain worker does.
    func testAReplyFromAWorkerDroppedForSilenceIsRejectedAndItsSenderJoinsAgain() throws {
        rig = try CoordinatorRig(.central)
        let run = rig.run
        let gradients = HonestGradients(architecture: run.architecture, shardSize: run.configuration.shardSize)
        var held: WireMessage?
        let a = try rig.addWorker("a") { worker in
            worker.onMessage = { message, worker in
                switch message {
                case .work(let work) where work.step == 0:
                    held = try gradients.reply(to: work)
                    worker.silent = true
                case .work(let work):
                    try worker.send(try gradients.reply(to: work))
                case .refuse:
                    try worker.hello()
                default:
                    break
                }
            }
        }
        // b answers step 1 only once a is a member again, so that step 2 is shared.
        var heldByB: [Work] = []
        // Each worker keeps its own weights (work may send steps from them).
        let gradientsOfB = HonestGradients(architecture: run.architecture, shardSize: run.configuration.shardSize)
        let b = try rig.addWorker("b") { worker in
            worker.onMessage = { message, _ in
                if case .work(let work) = message { heldByB.append(work) }
            }
            worker.onTick = { worker in
                while let work = heldByB.first, work.step != 1 || a.welcomes == 2 {
                    try worker.send(try gradientsOfB.reply(to: work))
                    heldByB.removeFirst()
                }
            }
        }
        rig.onTick = {
            guard a.silent, let late = held, b.works.contains(where: { $0.step == 1 }) else { return }
            held = nil
            a.silent = false
            a.forgetWelcome()
            try a.send(late)
        }
        try rig.attempt { try $0.waitForWorkers(2) }
        try run.load(rig.coordinator)

        let outcome = try rig.outcome(try rig.steps(3))

        outcome.assertIdentical(to: try run.reference(steps: 3), "a reply after its sender was dropped")
        XCTAssertNil(held, "a never woke: the fault did not happen")
        XCTAssertEqual(rig.log.matching("silent for over").count, 1, "\(rig.log.all)")
        XCTAssertEqual(rig.coordinator.rejectedMessages, 1)
        XCTAssertEqual(rig.log.matching("from a peer that is not a member").count, 1, "\(rig.log.all)")
        XCTAssertEqual(a.refusals.count, 1)
        XCTAssertEqual(a.welcomes, 2)
        XCTAssertEqual(a.works.map(\.step), [0, 2], "a joined again and took part in step 2")
        XCTAssertEqual(rig.coordinator.workerCount, 2)
    }

    /// Worker a sends its reply to step 0 twice; b answers once a has been told why it is out.
    func testADuplicateReplyIsRefusedItsSenderExpelledAndTheResultUnchanged() throws {
        rig = try CoordinatorRig(.central)
        let run = rig.run
        let gradients = HonestGradients(architecture: run.architecture, shardSize: run.configuration.shardSize)
        let a = try rig.addWorker("a") { worker in
            worker.onMessage = { message, worker in
                switch message {
                case .work(let work):
                    let reply = try gradients.reply(to: work)
                    try worker.send(reply)
                    if work.step == 0 { try worker.send(reply) }
                case .refuse:
                    // Out of the run: stays quiet rather than join again.
                    worker.silent = true
                default:
                    break
                }
            }
        }
        var heldByB: [Work] = []
        let gradientsOfB = HonestGradients(architecture: run.architecture, shardSize: run.configuration.shardSize)
        try rig.addWorker("b") { worker in
            worker.onMessage = { message, _ in
                if case .work(let work) = message { heldByB.append(work) }
            }
            worker.onTick = { worker in
                guard !a.refusals.isEmpty else { return }
                for work in heldByB { try worker.send(try gradientsOfB.reply(to: work)) }
                heldByB.removeAll()
            }
        }
        try rig.attempt { try $0.waitForWorkers(2) }
        try run.load(rig.coordinator)

        let outcome = try rig.outcome(try rig.steps(2))

        outcome.assertIdentical(to: try run.reference(steps: 2), "a duplicate reply in step 0")
        XCTAssertEqual(a.works.map(\.step), [0])
        XCTAssertEqual(a.refusals.count, 1)
        XCTAssertTrue(a.refusals.first?.contains("sent a gradient that does not match its work") == true, "\(a.refusals)")
        XCTAssertEqual(rig.coordinator.rejectedMessages, 1)
        XCTAssertEqual(rig.log.matching("it does not hold").count, 1, "\(rig.log.all)")
        XCTAssertEqual(rig.coordinator.workerCount, 1)
    }
}
