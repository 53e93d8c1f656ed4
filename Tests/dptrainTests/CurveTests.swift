import Foundation
import Wire
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// CURVE end to end with the built executable: keygen's files, training
/// through authorised workers (byte-identical to train), strangers refused
/// in the handshake, a wrongly pinned coordinator key, bad key files.
final class CurveTests: XCTestCase {
    private let epochs = 3

    private func keygen(_ folder: URL, _ name: String, force: Bool = false) throws -> DPTrain.Result {
        try DPTrain.run(["keygen", "--out", folder.appendingPathComponent(name).path] + (force ? ["--force"] : []))
    }

    /// NAME.key and NAME.pub in `folder`, made by keygen.
    private func keys(_ folder: URL, _ names: String...) throws {
        for name in names { XCTAssertEqual(try keygen(folder, name).status, 0) }
    }

    private func text(_ folder: URL, _ file: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func mode(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as! NSNumber).intValue
    }

    func testKeygenWritesASecretAndAPublicKeyAndRefusesToOverwrite() throws {
        let folder = try temporaryFolder()
        XCTAssertEqual(try keygen(folder, "node").status, 0)
        let secret = folder.appendingPathComponent("node.key"), pub = folder.appendingPathComponent("node.pub")
        XCTAssertEqual(try mode(secret), 0o600)
        XCTAssertEqual(try mode(pub), 0o644)
        let secretKey = try XCTUnwrap(CurveKey(z85: try text(folder, "node.key")), "node.key is not one Z85 key")
        let publicKey = try XCTUnwrap(CurveKey(z85: try text(folder, "node.pub")), "node.pub is not one Z85 key")
        // libzmq derives the same public key from the secret one.
        XCTAssertEqual(try CurveKeyPair(secretKey: secretKey).publicKey, publicKey)

        let before = (try Data(contentsOf: secret), try Data(contentsOf: pub))
        let again = try keygen(folder, "node")
        XCTAssertEqual(again.status, 2)
        XCTAssertEqual(again.stderr.split(separator: "\n").count, 1, again.stderr)
        XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: secret), before.0)
        XCTAssertEqual(try Data(contentsOf: pub), before.1)

        XCTAssertEqual(try keygen(folder, "node", force: true).status, 0)
        XCTAssertNotEqual(try Data(contentsOf: secret), before.0)
        XCTAssertEqual(try mode(secret), 0o600)
    }

    func testSecureSimulationMatchesTrainCentralAndRing() throws {
        let reference = try FailureRun.reference(epochs: epochs)
        for collective in ["central", "ring"] {
            let out = try temporaryFolder()
            let result = try DPTrain.run(FailureRun.arguments(
                "simulate", out: out, epochs: epochs, extra: ["--secure", "--workers", "2", "--collective", collective]))
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains("CURVE on"), result.stderr)
            try assertFinished(out, matches: reference, epochs: epochs, "simulate --secure --collective \(collective)")
        }
    }

    /// Coordinator and worker processes over TCP with CURVE: the authorised
    /// workers train; a worker with an unknown key, a plaintext worker and a
    /// raw pyzmq client never join, and the coordinator logs each refusal.
    func testAuthorisedWorkersTrainOverTCPAndStrangersAreRefused() throws {
        let reference = try FailureRun.reference(epochs: epochs)
        let folder = try temporaryFolder()
        try keys(folder, "coordinator", "w1", "w2", "stranger")
        let authorized = folder.appendingPathComponent("authorized_keys")
        try "# the run's workers\n\(try text(folder, "w1.pub")) w1\n\n\(try text(folder, "w2.pub"))\n".write(to: authorized, atomically: true, encoding: .utf8)
        let python = try pythonWithPyZMQ()
        for collective in ["central", "ring"] {
            let out = try temporaryFolder()
            let endpoint = "tcp://127.0.0.1:\(freePort())"
            let coordinator = try launch(FailureRun.arguments("coordinator", out: out, epochs: epochs, extra: [
                "--listen", endpoint, "--workers", "2", "--collective", collective,
                "--curve-secret-key", folder.appendingPathComponent("coordinator.key").path, "--authorized-keys", authorized.path]))
            waitUntil("the coordinator to listen: \(coordinator.stderr)") { coordinator.endpoint != nil }
            let coordinatorKey = "--coordinator-key=\(try text(folder, "coordinator.pub"))"
            func worker(_ extra: [String]) throws -> DPTrain.Running {
                try launch(["worker", "--coordinator", endpoint, "--peer-timeout-ms", "1500"] + extra)
            }
            let stranger = try worker(["--curve-secret-key", folder.appendingPathComponent("stranger.key").path, coordinatorKey])
            let plaintext = try worker([])
            let raw = try rawClient(python, endpoint: endpoint, serverKey: try text(folder, "coordinator.pub"))
            for (intruder, name) in [(stranger, "a worker with an unknown key"), (plaintext, "a plaintext worker")] {
                let result = try intruder.wait(timeout: 30)
                XCTAssertEqual(result.status, 1, "\(name): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains("no answer from the coordinator"), "\(name): \(result.stderr)")
            }
            XCTAssertEqual(raw.terminationStatus, 0, "the raw client failed")
            waitUntil("the coordinator to log the refusals: \(coordinator.stderr)", timeout: 15) {
                coordinator.stderr.contains("refused a connection from 127.0.0.1: public key \(try! text(folder, "stranger.pub")) is not authorised")
                    && coordinator.stderr.contains("coordinator: refused a connection: a peer")
                    && coordinator.stderr.components(separatedBy: "is not authorised").count >= 3
            }
            let workers = try ["w1", "w2"].map {
                try worker(["--curve-secret-key", folder.appendingPathComponent("\($0).key").path, coordinatorKey])
            }
            let result = try coordinator.wait(timeout: 300)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(coordinator.workersJoined, 2, "only the two authorised workers may join: \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("rejected message"), "a stranger's message reached the protocol: \(result.stderr)")
            for worker in workers { XCTAssertEqual(try worker.wait(timeout: 30).status, 0) }
            try assertFinished(out, matches: reference, epochs: epochs, "CURVE over TCP, \(collective)")
        }
    }

    func testAWorkerPinningTheWrongCoordinatorKeyGivesUpWithinItsTimeout() throws {
        let folder = try temporaryFolder()
        try keys(folder, "coordinator", "w1", "other")
        let authorized = folder.appendingPathComponent("authorized_keys")
        try FileManager.default.copyItem(at: folder.appendingPathComponent("w1.pub"), to: authorized)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try launch(FailureRun.arguments("coordinator", out: try temporaryFolder(), extra: [
            "--listen", endpoint, "--workers", "1",
            "--curve-secret-key", folder.appendingPathComponent("coordinator.key").path, "--authorized-keys", authorized.path]))
        waitUntil("the coordinator to listen: \(coordinator.stderr)") { coordinator.endpoint != nil }
        let started = Date()
        let worker = try DPTrain.run([
            "worker", "--coordinator", endpoint, "--peer-timeout-ms", "1500",
            "--curve-secret-key", folder.appendingPathComponent("w1.key").path,
            "--coordinator-key", folder.appendingPathComponent("other.pub").path], timeout: 30)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(worker.status, 1, worker.stderr)
        XCTAssertTrue(worker.stderr.contains("no answer from the coordinator at \(endpoint) within 1500 ms: wrong --coordinator-key"), worker.stderr)
        XCTAssertLessThan(elapsed, 1.5 + 2, "the worker took \(elapsed) s to give up")
        XCTAssertEqual(coordinator.workersJoined, 0, coordinator.stderr)
    }

    /// Every bad key file: exit 2, one line naming the file, nothing written.
    func testBadKeyFilesExitTwoWithOneLineAndTouchNothing() throws {
        let folder = try temporaryFolder()
        try keys(folder, "coordinator", "w1")
        let good = (secret: folder.appendingPathComponent("coordinator.key").path, pub: folder.appendingPathComponent("w1.pub").path)
        func file(_ name: String, _ contents: String, mode: Int = 0o600) throws -> String {
            let url = folder.appendingPathComponent(name)
            try contents.write(to: url, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
            return url.path
        }
        let secretText = try text(folder, "coordinator.key")
        let short = try file("short.key", String(secretText.dropLast()) + "\n")
        let badZ85 = try file("bad.key", String(secretText.dropLast()) + "\"\n")
        let open = try file("open.key", secretText + "\n", mode: 0o644)
        let missing = folder.appendingPathComponent("missing.key").path
        let badList = try file("authorized_bad", "# ok\n\(try text(folder, "w1.pub"))\nnot-a-key\n", mode: 0o644)
        let cases: [(String, [String], String)] = [
            ("short secret", ["--curve-secret-key", short, "--authorized-keys", good.pub], short),
            ("bad Z85", ["--curve-secret-key", badZ85, "--authorized-keys", good.pub], badZ85),
            ("readable by others", ["--curve-secret-key", open, "--authorized-keys", good.pub], open),
            ("missing", ["--curve-secret-key", missing, "--authorized-keys", good.pub], missing),
            ("bad authorized keys", ["--curve-secret-key", good.secret, "--authorized-keys", badList], "\(badList):3"),
        ]
        let before = try snapshot(folder)
        for (name, flags, named) in cases {
            let out = folder.appendingPathComponent("run-\(name.replacingOccurrences(of: " ", with: "-"))")
            let coordinator = try DPTrain.run(FailureRun.arguments(
                "coordinator", out: out, extra: ["--listen", "tcp://127.0.0.1:0", "--workers", "1"] + flags), timeout: 30)
            XCTAssertEqual(coordinator.status, 2, "\(name): \(coordinator.stderr)")
            XCTAssertEqual(coordinator.stderr.split(separator: "\n").count, 1, "\(name): \(coordinator.stderr)")
            XCTAssertTrue(coordinator.stderr.contains(named), "\(name): \(coordinator.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(name): the run folder was made")
        }
        for (name, key) in [("short", short), ("bad Z85", badZ85), ("open", open), ("missing", missing)] {
            let worker = try DPTrain.run([
                "worker", "--coordinator", "tcp://127.0.0.1:1", "--curve-secret-key", key, "--coordinator-key", good.pub], timeout: 30)
            XCTAssertEqual(worker.status, 2, "worker, \(name): \(worker.stderr)")
            XCTAssertEqual(worker.stderr.split(separator: "\n").count, 1, "worker, \(name): \(worker.stderr)")
            XCTAssertTrue(worker.stderr.contains(key), "worker, \(name): \(worker.stderr)")
        }
        XCTAssertEqual(try snapshot(folder), before, "a key file was changed")
    }

    /// Every file in `folder` with its bytes and modification time.
    private func snapshot(_ folder: URL) throws -> [String: String] {
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let url = folder.appendingPathComponent(name)
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            files[name] = "\((try? Data(contentsOf: url))?.base64EncodedString() ?? "dir") \(attributes[.modificationDate] ?? "") \(attributes[.posixPermissions] ?? "")"
        }
        return files
    }

    // MARK: - A raw outside client

    /// python3 with pyzmq, installed from PyPI if missing; skips only if that cannot be done.
    private func pythonWithPyZMQ() throws -> String {
        if shell(["python3", "-c", "import zmq"]) == 0 { return "python3" }
        guard shell(["python3", "-m", "pip", "install", "--quiet", "pyzmq"]) == 0,
              shell(["python3", "-c", "import zmq"]) == 0 else {
            throw XCTSkip("pyzmq is not installed and pip cannot install it")
        }
        return "python3"
    }

    /// A pyzmq DEALER with a CURVE key of its own that knows the
    /// coordinator's public key (public, after all): only the allow-list
    /// stops it. It sends a hello-looking frame and exits after a second.
    private func rawClient(_ python: String, endpoint: String, serverKey: String) throws -> Process {
        let script = """
        import time, zmq
        ctx = zmq.Context()
        public, secret = zmq.curve_keypair()
        server_public = b"\(serverKey.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"
        s = ctx.socket(zmq.DEALER)
        s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server_public
        s.linger = 0
        s.connect("\(endpoint)")
        s.send(b"DPTR\\x05\\x00\\x01\\x00hello from outside", zmq.NOBLOCK)
        time.sleep(1)
        s.close(); ctx.term()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script]
        try process.run()
        process.waitUntilExit()
        return process
    }

    @discardableResult
    private func shell(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return 127 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
