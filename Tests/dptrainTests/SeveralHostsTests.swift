import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Several hosts on one machine (NetworkLab): the coordinator and each
/// worker in a network namespace of its own, with its own address and host
/// name, talking TCP over a bridge, never over the machine's own networks.
/// Over slow, lossy links and across a cut link the model is still `train`'s.
final class SeveralHostsTests: XCTestCase {
    private static let port = 5555

    /// FailureRun's training flags (784-64-10, mnist-5k, 50 steps an epoch) after `command` and `extra`.
    private func arguments(_ command: String, out: URL, epochs: Int, extra: [String]) -> [String] {
        [command] + extra + FailureRun.arguments("train", out: out, epochs: epochs).dropFirst()
    }

    /// A coordinator on host "coordinator" and `workers` workers on hosts
    /// "worker-1"..., which reach it by its host name.
    private func startRun(
        in lab: NetworkLab, out: URL, epochs: Int, workers: Int, coordinatorFlags: [String]
    ) throws -> (coordinator: DPTrain.Running, workers: [DPTrain.Running]) {
        let listen = "tcp://\(lab.address("coordinator")):\(Self.port)"
        let coordinator = try lab.start(on: "coordinator", arguments(
            "coordinator", out: out, epochs: epochs, extra: ["--listen", listen, "--workers", String(workers)] + coordinatorFlags))
        waitUntil("the coordinator to listen; stderr: \(coordinator.stderr)") {
            coordinator.endpoint != nil || !coordinator.process.isRunning
        }
        let started = try (1...workers).map {
            try lab.start(on: "worker-\($0)", ["worker", "--coordinator", "tcp://coordinator:\(Self.port)"])
        }
        return (coordinator, started)
    }

    private func hosts(workers: Int) -> [String] { ["coordinator"] + (1...workers).map { "worker-\($0)" } }

    /// Waits for the run's end: the coordinator exits 0, then every worker
    /// (told to stop) exits 0. Returns the coordinator's result.
    private func finish(_ coordinator: DPTrain.Running, _ workers: [DPTrain.Running], timeout: Double = 600,
                        _ context: String) throws -> DPTrain.Result {
        let result = try coordinator.wait(timeout: timeout)
        XCTAssertEqual(result.status, 0, "\(context): \(result.stderr)")
        for (index, worker) in workers.enumerated() {
            let ended = try worker.wait(timeout: 60)
            XCTAssertEqual(ended.status, 0, "\(context): worker-\(index + 1) did not stop cleanly: \(ended.stderr)")
        }
        return result
    }

    func testCentralAndRingOverShapedLossyLinksMatchTrain() throws {
        let epochs = 2
        let reference = try FailureRun.reference(epochs: epochs)
        for collective in ["central", "ring"] {
            let lab = try NetworkLab(hosts: hosts(workers: 3), for: self)
            try lab.shape(rate: "200mbit", loss: 0.05)
            let out = try temporaryFolder()
            // Retransmissions at 5 % loss can hold a message up for a second
            // or more; a slow peer must not count as a lost one here.
            let (coordinator, workers) = try startRun(in: lab, out: out, epochs: epochs, workers: 3, coordinatorFlags: [
                "--collective", collective, "--heartbeat-ms", "200", "--peer-timeout-ms", "20000",
            ])
            // The lab address, not the machine's: the namespace has no other.
            XCTAssertEqual(coordinator.endpoint, "tcp://\(lab.address("coordinator")):\(Self.port)")
            let result = try finish(coordinator, workers, "\(collective) over lossy links")
            XCTAssertTrue(fileBytes(out.appendingPathComponent("model.safetensors")) == reference,
                          "\(collective) over 200 Mbit/s links with 5 % loss differs from train: \(result.stderr)")
            XCTAssertEqual(try metrics(in: out).last?["workers"] as? Int, 3, result.stderr)
            XCTAssertGreaterThan(try lab.droppedPackets(), 0, "\(collective): the loss rules dropped nothing")
            if collective == "ring" {
                // Each member announced itself under its own host name, which its neighbour resolved to a lab address.
                for (index, worker) in workers.enumerated() {
                    let others = (1...3).filter { $0 != index + 1 }.map { "sends to tcp://worker-\($0):" }
                    XCTAssertTrue(others.contains { worker.stderr.contains($0) },
                                  "worker-\(index + 1) does not send to another lab host by name: \(worker.stderr)")
                }
            }
            lab.tearDown()
        }
    }

    /// worker-3's link is cut after a step is done, for longer than the peer
    /// timeout: the coordinator gives its work to the others; when the link
    /// returns the worker joins again and trains to the end.
    func testAWorkerCutOffIsReplacedAndRejoinsWhenItsLinkReturns() throws {
        let epochs = 5
        let reference = try FailureRun.reference(epochs: epochs)
        for collective in ["central", "ring"] {
            let lab = try NetworkLab(hosts: hosts(workers: 3), for: self)
            try lab.shape(rate: "200mbit")
            let out = try temporaryFolder()
            let (coordinator, workers) = try startRun(in: lab, out: out, epochs: epochs, workers: 3, coordinatorFlags: [
                "--collective", collective, "--heartbeat-ms", "100", "--peer-timeout-ms", "1500",
            ] + FailureRun.stepLog)
            guard waitForStep(FailureRun.midEpoch(1), of: coordinator) else { return }
            try lab.cut("worker-3")
            // The coordinator's loss of it, and its own of the coordinator: both sides waited out the peer timeout.
            let dropped = { coordinator.stderr.split(separator: "\n").contains {
                $0.contains("(worker-3:") && $0.hasSuffix("its work goes to the others")
            } }
            waitUntil("the coordinator to drop worker-3; stderr: \(coordinator.stderr)") {
                dropped() || !coordinator.process.isRunning
            }
            waitUntil("worker-3 to miss its coordinator; stderr: \(workers[2].stderr)") {
                workers[2].stderr.contains("silent for over 1500 ms; saying hello again") || !workers[2].process.isRunning
            }
            // The others train on without it.
            guard let last = coordinator.stepsDone.last, waitForStep(last + 2, of: coordinator) else { return }
            try lab.restore("worker-3")
            waitUntil("worker-3 to join again; stderr: \(workers[2].stderr)") {
                workers[2].stderr.components(separatedBy: "joined tcp://coordinator:").count == 3
                    || !workers[2].process.isRunning
            }

            let result = try finish(coordinator, workers, "\(collective), worker-3 cut off")
            XCTAssertTrue(fileBytes(out.appendingPathComponent("model.safetensors")) == reference,
                          "\(collective) with a worker cut off and back differs from train: \(result.stderr)")
            // Three joins at the start and worker-3's second; the last epoch ran on all three.
            let joins = result.stderr.split(separator: "\n").filter { $0.contains(" joined;") }
            XCTAssertEqual(joins.count, 4, result.stderr)
            XCTAssertEqual(joins.filter { $0.contains("(worker-3:") }.count, 2, result.stderr)
            XCTAssertEqual(try metrics(in: out).last?["workers"] as? Int, 3, result.stderr)
            lab.tearDown()
        }
    }
}
