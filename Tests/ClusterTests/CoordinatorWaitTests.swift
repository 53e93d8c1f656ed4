import Cluster
import Foundation
import Training
import Wire
import XCTest

/// The coordinator's one wait loop: the join deadline, the --min-workers
/// pause, and stop signals, which every wait must hear.
final class CoordinatorWaitTests: CoordinatorRigTestCase {
    private func assertNotEnoughWorkers<T>(
        _ body: @autoclosure () throws -> T, have: Int, need: Int, waited: Double,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let short = error as? NotEnoughWorkers else {
                return XCTFail("expected NotEnoughWorkers, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(short.have, have, file: file, line: line)
            XCTAssertEqual(short.need, need, file: file, line: line)
            XCTAssertEqual(short.waitedSeconds, waited, file: file, line: line)
            XCTAssertTrue(short.description.contains("only \(have) of the \(need) workers"), short.description, file: file, line: line)
        }
    }

    private func assertStopped<T>(
        _ body: @autoclosure () throws -> T, by signal: Int32, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual((error as? StopRequested)?.signal, signal, "\(error)", file: file, line: line)
        }
    }

    private func assertWeightsAsLoaded(file: StaticString = #filePath, line: UInt = #line) throws {
        let weights = Array(try rig.coordinator.state().weights)
        XCTAssertEqual(weights.map(\.bitPattern), rig.run.initialWeights.map(\.bitPattern),
                       "a step that did not finish changed the weights", file: file, line: line)
    }

    func testWaitingForWorkersThatNeverComeEndsAtTheJoinDeadline() throws {
        rig = try CoordinatorRig(.central, settings: .fast(joinTimeoutSeconds: 0.3))
        assertNotEnoughWorkers(try rig.attempt { try $0.waitForWorkers(2) }, have: 0, need: 2, waited: 0.3)
        XCTAssertGreaterThan(rig.ticks, 0, "the wait never polled for a stop")
    }

    func testTheJoinDeadlineCountsTheWorkersThatDidCome() throws {
        rig = try CoordinatorRig(.central, settings: .fast(joinTimeoutSeconds: 0.3))
        let a = try rig.addWorker("a")
        assertNotEnoughWorkers(try rig.attempt { try $0.waitForWorkers(2) }, have: 1, need: 2, waited: 0.3)
        XCTAssertEqual(a.welcomes, 1)
    }

    /// One live worker of --min-workers 2: the step pauses before any work goes out, then gives up.
    func testTooFewWorkersPauseTheStepUntilTheWaitTimeout() throws {
        rig = try CoordinatorRig(.central, settings: .fast(minWorkers: 2, waitTimeoutSeconds: 0.3))
        let run = rig.run
        let a = try rig.addWorker("a") { $0.answerHonestly(run) }
        try rig.attempt { try $0.waitForWorkers(1) }
        try run.load(rig.coordinator)

        assertNotEnoughWorkers(try rig.steps(1), have: 1, need: 2, waited: 0.3)

        XCTAssertEqual(rig.log.matching("1 live worker, fewer than --min-workers 2").count, 1, "\(rig.log.all)")
        XCTAssertEqual(a.works.count, 0, "work went out while paused")
        try assertWeightsAsLoaded()
    }

    /// The pause ends when a second worker joins (placed by the pause's own log line).
    func testAWorkerJoiningDuringThePauseLetsTheStepGoOn() throws {
        rig = try CoordinatorRig(.central, settings: .fast(minWorkers: 2))
        let run = rig.run
        let a = try rig.addWorker("a") { $0.answerHonestly(run) }
        var b: ScriptedWorker?
        rig.onTick = { [unowned rig = rig!] in
            guard b == nil, !rig.log.matching("fewer than --min-workers").isEmpty else { return }
            b = try rig.addWorker("b") { $0.answerHonestly(run) }
        }
        try rig.attempt { try $0.waitForWorkers(1) }
        try run.load(rig.coordinator)

        let outcome = try rig.outcome(try rig.steps(2))

        outcome.assertIdentical(to: try run.reference(steps: 2), "a step paused for a second worker")
        XCTAssertEqual(rig.log.matching("fewer than --min-workers").count, 1)
        XCTAssertEqual(a.works.map(\.step), [0, 1])
        XCTAssertEqual(b?.works.map(\.step), [0, 1], "the step went on without the worker it waited for")
    }

    func testAStopSignalEndsTheWaitForWorkers() throws {
        rig = try CoordinatorRig(.central)
        rig.onTick = { [unowned rig = rig!] in
            if !rig.log.matching("joined").isEmpty { rig.stopRequest = SIGTERM }
        }
        try rig.addWorker("a")
        assertStopped(try rig.attempt { try $0.waitForWorkers(2) }, by: SIGTERM)
    }

    func testAStopSignalEndsThePause() throws {
        rig = try CoordinatorRig(.central, settings: .fast(minWorkers: 2))
        let run = rig.run
        try rig.addWorker("a") { $0.answerHonestly(run) }
        rig.onTick = { [unowned rig = rig!] in
            if !rig.log.matching("fewer than --min-workers").isEmpty { rig.stopRequest = SIGINT }
        }
        try rig.attempt { try $0.waitForWorkers(1) }
        try run.load(rig.coordinator)
        assertStopped(try rig.steps(1), by: SIGINT)
        try assertWeightsAsLoaded()
    }

    /// A stop while a member holds its work: the step is abandoned before its update.
    func testAStopSignalMidStepAbandonsTheStep() throws {
        rig = try CoordinatorRig(.central)
        let run = rig.run
        let a = try rig.addWorker("a") { [unowned rig = rig!] worker in
            worker.onMessage = { message, _ in
                if case .work = message { rig.stopRequest = SIGTERM }
            }
        }
        try rig.addWorker("b") { $0.answerHonestly(run) }
        try rig.attempt { try $0.waitForWorkers(2) }
        try run.load(rig.coordinator)

        assertStopped(try rig.steps(1), by: SIGTERM)

        XCTAssertEqual(a.works.map(\.step), [0])
        try assertWeightsAsLoaded()
    }
}
