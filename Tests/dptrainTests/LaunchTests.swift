import Foundation
import XCTest

/// `dptrain launch` as each launcher starts it: every task the same command,
/// the launcher's variables deciding who coordinates. Real processes on
/// 127.0.0.1; the model is `train`'s, byte for byte.
final class LaunchTests: XCTestCase {
    private let epochs = 2

    /// Starts `tasks` launch processes, task i with `environment(i)`, and waits for all.
    private func launchAll(_ tasks: Int, out: URL, extra: [String] = [], environment: (Int) -> [String: String]) throws -> [DPTrain.Result] {
        let runs = try (0..<tasks).map { rank in
            try DPTrain.start(FailureRun.arguments("launch", out: out, epochs: epochs, extra: extra), environment: environment(rank))
        }
        return try runs.map { try $0.wait(timeout: 120) }
    }

    private func freeLoopbackPort() -> Int { freePort() }

    func testTorchrunStyleTasksTrainToTrainsBytes() throws {
        let reference = try FailureRun.reference(epochs: epochs)
        let out = try temporaryFolder()
        let port = freeLoopbackPort()
        let results = try launchAll(3, out: out, extra: ["--listen", "tcp://127.0.0.1:\(port)"]) { rank in
            ["RANK": String(rank), "WORLD_SIZE": "3", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": String(port)]
        }
        for (rank, result) in results.enumerated() { XCTAssertEqual(result.status, 0, "rank \(rank): \(result.stderr)") }
        XCTAssertTrue(results[0].stderr.contains("launch: torchrun rank 0 of 3"), results[0].stderr)
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference)
        XCTAssertEqual(try metrics(in: out).last?["workers"] as? Int, 2)
    }

    func testSlurmTasksWithoutAPortMeetThroughTheRendezvousFile() throws {
        let reference = try FailureRun.reference(epochs: epochs)
        let out = try temporaryFolder()
        let results = try launchAll(3, out: out, extra: ["--listen", "tcp://127.0.0.1:*"]) { rank in
            ["SLURM_PROCID": String(rank), "SLURM_NTASKS": "3", "SLURM_JOB_NODELIST": "localhost", "SLURM_JOB_ID": "31337"]
        }
        for (rank, result) in results.enumerated() { XCTAssertEqual(result.status, 0, "rank \(rank): \(result.stderr)") }
        XCTAssertTrue(results[0].stderr.contains("published tcp://127.0.0.1:"), results[0].stderr)
        XCTAssertNotNil(fileBytes(out.appendingPathComponent("rendezvous-31337")))
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference)
    }

    func testKubernetesIndexedJobVariables() throws {
        let reference = try FailureRun.reference(epochs: epochs)
        let out = try temporaryFolder()
        let port = freeLoopbackPort()
        let results = try launchAll(3, out: out, extra: ["--listen", "tcp://127.0.0.1:\(port)", "--collective", "ring"]) { rank in
            ["JOB_COMPLETION_INDEX": String(rank), "WORLD_SIZE": "3", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": String(port)]
        }
        for (rank, result) in results.enumerated() { XCTAssertEqual(result.status, 0, "rank \(rank): \(result.stderr)") }
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference)
    }

    func testABadEnvironmentIsOneLineNamingTheVariable() throws {
        let out = try temporaryFolder()
        for (environment, variable) in [(["RANK": "3", "WORLD_SIZE": "3"], "RANK"), (["SLURM_PROCID": "0"], "SLURM_NTASKS"),
                                        (["SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_NODELIST": "n[1-"], "SLURM_JOB_NODELIST")] {
            let result = try DPTrain.start(FailureRun.arguments("launch", out: out, epochs: 1), environment: environment).wait(timeout: 60)
            XCTAssertEqual(result.status, 2, result.stderr)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(lines.first?.hasPrefix("dptrain: \(variable)") == true, result.stderr)
        }
    }
}
