import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A ring over several hosts with as many workers on each reduces in two
/// levels: shared memory inside a host, one ring per local rank between
/// hosts. Hosts are UTS namespaces with host names of their own (workers
/// of one host share a name, hence memory); the model stays train's.
final class TwoLevelRingTests: XCTestCase {
    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("a UTS namespace needs root") }
    }

    /// Worker processes, `perHost` on each of `hosts` hosts: host 0 is this
    /// machine's name, the others UTS namespaces named after their index.
    /// `extra(index)` adds flags to the index-th worker.
    private func startWorkers(
        hosts: Int, perHost: Int, endpoint: String, extra: (Int) -> [String] = { _ in [] }
    ) throws -> [DPTrain.Running] {
        let base = ["worker", "--coordinator", endpoint, "--ring-listen", "tcp://127.0.0.1:*", "--log-level", "info"]
        return try (0..<hosts).flatMap { host in
            try (0..<perHost).map { local in
                let worker = base + extra(host * perHost + local)
                return host == 0 ? try DPTrain.start(worker) : try DPTrain.start(worker, launcher: [
                    "/usr/bin/unshare", "--uts", "/bin/sh", "-c", "hostname dptrain-host-\(host) && exec \"$0\" \"$@\""])
            }
        }
    }

    func testHostsOfEqualSizeReduceInTwoLevelsAndMatchTrain() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, epochs: 1, command: "train"), out: trainOut)
        for (hosts, perHost, hierarchical) in [(2, 2, true), (3, 2, true), (2, 3, true), (2, 2, false)] {
            let context = "\(hosts) hosts of \(perHost)\(hierarchical ? "" : ", --no-hierarchical")"
            let out = try temporaryFolder()
            let endpoint = "tcp://127.0.0.1:\(freePort())"
            let coordinator = try launch(Fixture.smallRun(
                out: out, epochs: 1, command: "coordinator",
                extra: ["--listen", endpoint, "--workers", String(hosts * perHost), "--collective", "ring", "--log-level", "info"]
                    + (hierarchical ? [] : ["--no-hierarchical"])))
            let workers = try startWorkers(hosts: hosts, perHost: perHost, endpoint: endpoint)
            defer { for running in workers + [coordinator] where isAlive(running.pid) { running.signal(SIGKILL) } }
            let result = try coordinator.wait(timeout: 300)
            XCTAssertEqual(result.status, 0, "\(context): \(result.stderr)")
            XCTAssertEqual(result.stderr.contains("in two levels: \(hosts) hosts of \(perHost) workers"), hierarchical,
                           "\(context): \(result.stderr)")
            var logs: [String] = []
            for running in workers {
                let ended = try running.wait(timeout: 30)
                XCTAssertEqual(ended.status, 0, "\(context): \(ended.stderr)")
                logs.append(ended.stderr)
            }
            if hierarchical {
                // Every member links to both neighbours in its host through shared memory.
                XCTAssertEqual(logs.filter { $0.contains("two levels: member") && $0.contains("shared memory from the left and to the right") }.count,
                               hosts * perHost, "\(context): \(logs.joined(separator: "\n---\n"))")
            } else {
                XCTAssertFalse(logs.contains { $0.contains("two levels") }, "\(context): \(logs.joined(separator: "\n---\n"))")
            }
            XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference, "\(context): differs from train")
        }
    }

    /// A member SIGKILLed mid-step in two levels: the others notice, the
    /// coordinator forms a new ring of the three left (a flat one: the hosts
    /// are no longer alike) and repeats from its snapshot; train's bytes.
    func testAMemberKilledMidStepInTwoLevelsLeavesTheModel() throws {
        let reference = try FailureRun.reference()
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try launch(FailureRun.arguments(
            "coordinator", out: out, extra: FailureRun.stepLog + ["--listen", endpoint, "--workers", "4", "--min-workers", "3", "--collective", "ring"]))
        let workers = try startWorkers(hosts: 2, perHost: 2, endpoint: endpoint, extra: { _ in FailureRun.cluster })
        defer { for running in workers + [coordinator] where isAlive(running.pid) { running.signal(SIGKILL) } }
        guard waitForStep(FailureRun.midEpoch(2), of: coordinator) else { return }
        XCTAssertTrue(coordinator.stderr.contains("in two levels: 2 hosts of 2 workers"), coordinator.stderr)
        killHard(workers[3].pid)
        let result = try coordinator.wait(timeout: 180)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("broke"), "the broken ring was not reported: \(result.stderr)")
        try assertFinished(out, matches: reference, "member killed in a two-level ring")
    }

    /// Under CURVE the rings between hosts pin their neighbours' keys as
    /// the flat ring does; train's bytes.
    func testTwoLevelsUnderCurveMatchTrain() throws {
        let trainOut = try temporaryFolder()
        let reference = try modelBytes(Fixture.smallRun(out: trainOut, epochs: 1, command: "train"), out: trainOut)
        let keys = try temporaryFolder()
        for name in ["coordinator", "w0", "w1", "w2", "w3"] {
            XCTAssertEqual(try DPTrain.run(["keygen", "--out", keys.appendingPathComponent(name).path]).status, 0)
        }
        let authorized = try (0..<4).map { try String(contentsOf: keys.appendingPathComponent("w\($0).pub"), encoding: .utf8) }.joined()
        try authorized.write(to: keys.appendingPathComponent("authorized_keys"), atomically: true, encoding: .utf8)
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try launch(Fixture.smallRun(
            out: out, epochs: 1, command: "coordinator",
            extra: ["--listen", endpoint, "--workers", "4", "--collective", "ring", "--log-level", "info",
                    "--curve-secret-key", keys.appendingPathComponent("coordinator.key").path,
                    "--authorized-keys", keys.appendingPathComponent("authorized_keys").path]))
        let workers = try startWorkers(hosts: 2, perHost: 2, endpoint: endpoint) { index in
            ["--curve-secret-key", keys.appendingPathComponent("w\(index).key").path,
             "--coordinator-key", keys.appendingPathComponent("coordinator.pub").path]
        }
        defer { for running in workers + [coordinator] where isAlive(running.pid) { running.signal(SIGKILL) } }
        let result = try coordinator.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("in two levels: 2 hosts of 2 workers"), result.stderr)
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference, "two levels under CURVE differ from train")
    }
}
