import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Real worker processes over real ZeroMQ sockets give exactly what one
/// process gives: DESIGN.md's determinism promise.
final class SimulateTests: XCTestCase {
    func testSimulateWithOneToEightWorkersMatchesTrainByteForByte() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, command: "train"), out: trainOut)
        for workers in [1, 2, 3, 4, 8] {
            let out = try temporaryFolder()
            let bytes = try modelBytes(Fixture.smallRun(out: out, command: "simulate", extra: ["--workers", String(workers)]), out: out)
            XCTAssertEqual(bytes, reference, "simulate --workers \(workers) differs from train")
            let lines = try metrics(in: out)
            XCTAssertEqual(lines.last?["workers"] as? Int, workers)
        }
    }

    /// Eight shards a step (250 = 7 x 32 + 26), so every one of up to eight workers computes.
    func testFiveToEightBusyWorkersMatchTrain() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, batchSize: 250, command: "train"), out: trainOut)
        for workers in 5...8 {
            let out = try temporaryFolder()
            let bytes = try modelBytes(Fixture.smallRun(out: out, batchSize: 250, command: "simulate", extra: ["--workers", String(workers)]), out: out)
            XCTAssertEqual(bytes, reference, "simulate --workers \(workers) differs from train")
        }
    }

    func testNoWorkerOutlivesASimulation() throws {
        let out = try temporaryFolder()
        let running = try launch(Fixture.smallRun(out: out, command: "simulate", extra: ["--workers", "3"]))
        let workers = joinedWorkers(of: running, count: 3)
        let result = try running.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        waitUntilGone(workers, "the workers of a finished simulate")
    }

    /// A long simulation with two workers, both joined, stopped in the middle
    /// of its second epoch (smallRun has FailureRun's 50 steps an epoch).
    private func startLongSimulation() throws -> (DPTrain.Running, [Int32])? {
        let out = try temporaryFolder()
        let running = try launch(Fixture.smallRun(
            out: out, epochs: 50, command: "simulate", extra: FailureRun.stepLog + ["--workers", "2"]))
        let workers = joinedWorkers(of: running, count: 2)
        guard waitForStep(FailureRun.midEpoch(2), of: running) else { return nil }
        return (running, workers)
    }

    func testInterruptedSimulationExits130AndLeavesNoWorkers() throws {
        guard let (running, workers) = try startLongSimulation() else { return }
        running.signal(SIGINT)
        let result = try running.wait(timeout: 60)
        XCTAssertEqual(result.status, 130, result.stderr)
        waitUntilGone(workers, "the workers of an interrupted simulate")
    }

    func testKilledSimulationTakesItsWorkersWithIt() throws {
        guard let (running, workers) = try startLongSimulation() else { return }
        running.signal(SIGKILL)
        _ = try running.wait(timeout: 30)
        waitUntilGone(workers, "the workers of a SIGKILLed simulate")
    }
}
