import Foundation
import XCTest

final class TrainCommandTests: XCTestCase {
    /// The acceptance run of the core issue: real MNIST digits, real test set.
    func testMNIST5kReachesAtLeast93PercentOnTheRealTestSet() throws {
        let out = try temporaryFolder()
        let result = try DPTrain.run([
            "train", "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest,
            "--layers", "784,128,10", "--activation", "relu", "--epochs", "10", "--batch-size", "128",
            "--lr", "0.1", "--momentum", "0.9", "--lr-decay", "0.95", "--seed", "1", "--out", out.path,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try metrics(in: out)
        XCTAssertEqual(lines.count, 10)
        for key in ["epoch", "loss", "train_accuracy", "test_accuracy", "lr", "samples_per_second", "workers", "elapsed_seconds"] {
            XCTAssertNotNil(lines.last?[key], "metrics.jsonl lacks \(key)")
        }
        let accuracy = try XCTUnwrap(lines.last?["test_accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(accuracy, 0.93)
        // lr-decay multiplies in once per epoch: epoch 10 trains at 0.1 * 0.95^9.
        XCTAssertEqual(try XCTUnwrap(lines.last?["lr"] as? Double), 0.1 * pow(0.95, 9), accuracy: 1e-6)
        // Loss falls from the first epoch to the last.
        XCTAssertLessThan(try XCTUnwrap(lines.last?["loss"] as? Double), try XCTUnwrap(lines.first?["loss"] as? Double))

        // evaluate reads the model back and agrees with the last epoch's figure.
        // A path with a quote and a backslash must still give valid JSON.
        let odd = try temporaryFolder().appendingPathComponent("a \"b\\c")
        try FileManager.default.createDirectory(at: odd, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: out.appendingPathComponent("model.safetensors"), to: odd.appendingPathComponent("model.safetensors"))
        let evaluated = try DPTrain.run(["evaluate", "--model", odd.appendingPathComponent("model.safetensors").path,
                                         "--data", DPTrain.mnistTest])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(try XCTUnwrap(report["test_accuracy"] as? Double), accuracy, accuracy: 1e-6)
        XCTAssertEqual(report["samples"] as? Int, 10_000)
        XCTAssertEqual(report["model"] as? String, odd.appendingPathComponent("model.safetensors").path)
    }

    func testSameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws {
        func train(seed: Int) throws -> Data? {
            let out = try temporaryFolder()
            let result = try DPTrain.run(Fixture.smallRun(out: out, seed: seed, command: "train"))
            XCTAssertEqual(result.status, 0, result.stderr)
            return fileBytes(out.appendingPathComponent("model.safetensors"))
        }
        let first = try XCTUnwrap(try train(seed: 7))
        XCTAssertEqual(first, try train(seed: 7))
        XCTAssertNotEqual(first, try train(seed: 8))
    }

    func testModelFileHasThePyTorchLinearLayout() throws {
        let out = try temporaryFolder()
        let result = try DPTrain.run(Fixture.smallRun(out: out, seed: 3, command: "train"))
        XCTAssertEqual(result.status, 0, result.stderr)
        let bytes = try XCTUnwrap(fileBytes(out.appendingPathComponent("model.safetensors")))
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let weight = try XCTUnwrap(header["layers.0.weight"] as? [String: Any])
        XCTAssertEqual(weight["dtype"] as? String, "F32")
        XCTAssertEqual(weight["shape"] as? [Int], [32, 784])
        XCTAssertEqual((header["layers.1.bias"] as? [String: Any])?["shape"] as? [Int], [10])
        let metadata = try XCTUnwrap(header["__metadata__"] as? [String: String])
        XCTAssertEqual(metadata["layers"], "784,32,10")
        XCTAssertEqual(metadata["activation"], "relu")
        XCTAssertEqual(bytes.count, 8 + headerLength + 4 * (784 * 32 + 32 + 32 * 10 + 10))
    }
}

/// A run small enough to repeat many times, with a batch (100) that is not a
/// multiple of the shard size (32), so a short last shard is always involved.
enum Fixture {
    static func smallRun(out: URL, seed: Int = 7, epochs: Int = 2, batchSize: Int = 100, command: String, extra: [String] = []) -> [String] {
        [command] + extra + [
            "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,32,10",
            "--activation", "relu", "--epochs", String(epochs), "--batch-size", String(batchSize), "--lr", "0.1", "--momentum", "0.9",
            "--lr-decay", "0.9", "--seed", String(seed), "--out", out.path,
        ]
    }
}
