import Foundation
import XCTest

/// `dptrain launch` with CURVE: keys from files (flags) or from the
/// variables a Kubernetes Secret fills, real processes with torchrun-style
/// variables on 127.0.0.1. The model is `train`'s; a stranger is refused.
final class LaunchCurveTests: XCTestCase {
    private let epochs = 2

    /// NAME.key and NAME.pub for each name, made by keygen in `folder`.
    private func keys(_ folder: URL, _ names: String...) throws {
        for name in names {
            XCTAssertEqual(try DPTrain.run(["keygen", "--out", folder.appendingPathComponent(name).path]).status, 0)
        }
    }

    private func text(_ folder: URL, _ file: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
    }

    private func rank(_ rank: Int, port: Int) -> [String: String] {
        ["RANK": String(rank), "WORLD_SIZE": "3", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": String(port)]
    }

    private func start(_ arguments: [String], _ environment: [String: String]) throws -> DPTrain.Running {
        let running = try DPTrain.start(arguments, environment: environment)
        addTeardownBlock {
            if running.process.isRunning {
                kill(running.pid, SIGKILL)
                running.process.waitUntilExit()
            }
        }
        return running
    }

    func testASecureLaunchOfThreeRanksTrainsToTrainsBytesAndAStrangerIsRefused() throws {
        let reference = try FailureRun.reference(epochs: epochs)
        let keyFolder = try temporaryFolder()
        try keys(keyFolder, "coordinator", "w1", "w2", "stranger")
        // The allow-list as a Secret holds it: text, a comment, a key with its holder's name.
        let authorized = "# the job's workers\n\(try text(keyFolder, "w1.pub").trimmingCharacters(in: .newlines)) w1\n\(try text(keyFolder, "w2.pub"))"
        let out = try temporaryFolder()
        let port = freePort()
        let arguments = { (extra: [String]) in FailureRun.arguments("launch", out: out, epochs: self.epochs, extra: extra) }

        // Rank 0's keys from the environment, as Kubernetes fills it from a Secret.
        let coordinator = try start(arguments(["--listen", "tcp://127.0.0.1:\(port)"]), rank(0, port: port).merging([
            "DPTRAIN_CURVE_SECRET_KEY": try text(keyFolder, "coordinator.key"), "DPTRAIN_AUTHORIZED_KEYS": authorized,
            "DPTRAIN_COORDINATOR_KEY": try text(keyFolder, "coordinator.pub")]) { $1 })
        waitUntil("rank 0 to listen: \(coordinator.stderr)") { coordinator.endpoint != nil || !coordinator.process.isRunning }

        // A worker with a key rank 0 does not know: refused in the handshake, never a member.
        let stranger = try start(arguments(["--join-timeout", "3"]), rank(1, port: port).merging([
            "DPTRAIN_CURVE_SECRET_KEY": try text(keyFolder, "stranger.key"),
            "DPTRAIN_COORDINATOR_KEY": try text(keyFolder, "coordinator.pub")]) { $1 })
        let refused = try stranger.wait(timeout: 60)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("no answer from the coordinator"), refused.stderr)
        let strangerKey = try text(keyFolder, "stranger.pub").trimmingCharacters(in: .newlines)
        waitUntil("rank 0 to log the refusal: \(coordinator.stderr)", timeout: 15) {
            coordinator.stderr.contains("public key \(strangerKey) is not authorised")
        }

        // Rank 1 with key files (flags), rank 2 with the variables.
        let first = try start(arguments([
            "--curve-secret-key", keyFolder.appendingPathComponent("w1.key").path,
            "--coordinator-key", keyFolder.appendingPathComponent("coordinator.pub").path]), rank(1, port: port))
        let second = try start(arguments([]), rank(2, port: port).merging([
            "DPTRAIN_CURVE_SECRET_KEY": try text(keyFolder, "w2.key"), "DPTRAIN_AUTHORIZED_KEYS": authorized,
            "DPTRAIN_COORDINATOR_KEY": try text(keyFolder, "coordinator.pub")]) { $1 })
        let result = try coordinator.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        for (name, worker) in [("rank 1", first), ("rank 2", second)] {
            let ended = try worker.wait(timeout: 60)
            XCTAssertEqual(ended.status, 0, "\(name): \(ended.stderr)")
        }
        XCTAssertTrue(result.stderr.contains("CURVE on"), result.stderr)
        XCTAssertEqual(coordinator.workersJoined, 2, "only the two authorised workers may join: \(result.stderr)")
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference)
    }

    /// Every bad key value, by variable or by flag: exit 2, one line naming
    /// it, the secret never printed, no run folder made.
    func testBadKeysExitTwoWithOneLineNamingTheVariable() throws {
        let keyFolder = try temporaryFolder()
        try keys(keyFolder, "coordinator", "w1")
        let secret = try text(keyFolder, "coordinator.key"), pub = try text(keyFolder, "w1.pub")
        let placeholder = "REPLACE: the job's secret key (keys/job.key from dptrain keygen)"
        let port = freePort()
        let cases: [(name: String, rank: Int, environment: [String: String], flags: [String], named: String)] = [
            ("a placeholder secret", 0, ["DPTRAIN_CURVE_SECRET_KEY": placeholder, "DPTRAIN_AUTHORIZED_KEYS": pub], [],
             "DPTRAIN_CURVE_SECRET_KEY: a key is 40 Z85 characters"),
            ("no allow-list on rank 0", 0, ["DPTRAIN_CURVE_SECRET_KEY": secret, "DPTRAIN_COORDINATOR_KEY": pub], [],
             "DPTRAIN_AUTHORIZED_KEYS: missing beside DPTRAIN_CURVE_SECRET_KEY"),
            ("an allow-list of comments", 0, ["DPTRAIN_CURVE_SECRET_KEY": secret, "DPTRAIN_AUTHORIZED_KEYS": "# none yet\n"], [],
             "DPTRAIN_AUTHORIZED_KEYS: holds no key"),
            ("a bad second line", 0, ["DPTRAIN_CURVE_SECRET_KEY": secret, "DPTRAIN_AUTHORIZED_KEYS": pub + "not-a-key\n"], [],
             "DPTRAIN_AUTHORIZED_KEYS:2: a key is 40 Z85 characters"),
            ("a bad coordinator key", 1, ["DPTRAIN_CURVE_SECRET_KEY": secret, "DPTRAIN_COORDINATOR_KEY": String(pub.dropFirst(3))], [],
             "DPTRAIN_COORDINATOR_KEY: a key is 40 Z85 characters"),
            ("a coordinator key alone", 1, ["DPTRAIN_COORDINATOR_KEY": pub], [],
             "DPTRAIN_CURVE_SECRET_KEY: missing beside DPTRAIN_COORDINATOR_KEY"),
            ("a key flag alone", 2, [:], ["--coordinator-key", keyFolder.appendingPathComponent("w1.pub").path],
             "--curve-secret-key: missing beside --coordinator-key"),
        ]
        for (name, rank, environment, flags, named) in cases {
            let out = keyFolder.appendingPathComponent("run-\(name.replacingOccurrences(of: " ", with: "-"))")
            let result = try DPTrain.start(FailureRun.arguments("launch", out: out, epochs: 1, extra: flags),
                                           environment: self.rank(rank, port: port).merging(environment) { $1 }).wait(timeout: 60)
            XCTAssertEqual(result.status, 2, "\(name): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("dptrain: \(named)"), "\(name): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains(secret.trimmingCharacters(in: .newlines)), "\(name): the secret key was printed")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(name): the run folder was made")
        }
    }
}
