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
        let running = try DPTrain.start(Fixture.smallRun(out: out, command: "simulate", extra: ["--workers", "3"]))
        var workers: [Int32] = []
        let deadline = Date().addingTimeInterval(30)
        while workers.count < 3 && Date() < deadline { workers = children(of: running.pid); usleep(20_000) }
        XCTAssertEqual(workers.count, 3, "simulate did not start 3 worker processes")
        let result = try running.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        usleep(200_000)
        XCTAssertEqual(workers.filter(isAlive), [], "workers left behind")
    }

    /// A long simulation with two workers, once both worker processes are up.
    private func startLongSimulation() throws -> (DPTrain.Running, [Int32]) {
        let out = try temporaryFolder()
        let running = try DPTrain.start(Fixture.smallRun(out: out, epochs: 50, command: "simulate", extra: ["--workers", "2"]))
        var workers: [Int32] = []
        let deadline = Date().addingTimeInterval(30)
        while (workers.count < 2 || !running.stdout.contains("epoch")) && Date() < deadline {
            workers = children(of: running.pid)
            usleep(20_000)
        }
        XCTAssertEqual(workers.count, 2, "simulate did not start 2 worker processes")
        return (running, workers)
    }

    func testInterruptedSimulationExits130AndLeavesNoWorkers() throws {
        let (running, workers) = try startLongSimulation()
        running.signal(SIGINT)
        let result = try running.wait(timeout: 60)
        XCTAssertEqual(result.status, 130, result.stderr)
        usleep(200_000)
        XCTAssertEqual(workers.filter(isAlive), [], "workers left behind after SIGINT")
    }

    func testKilledSimulationTakesItsWorkersWithIt() throws {
        let (running, workers) = try startLongSimulation()
        running.signal(SIGKILL)
        _ = try running.wait(timeout: 30)
        let gone = Date().addingTimeInterval(10)
        while !workers.filter(isAlive).isEmpty && Date() < gone { usleep(50_000) }
        XCTAssertEqual(workers.filter(isAlive), [], "workers outlived a SIGKILLed simulate")
    }
}
