import Foundation
import XCTest

/// RUN_DIR/tensorboard/ read back by TensorBoard's own reader
/// (EventAccumulator, from the `tensorboard` package on PyPI, installed
/// into the tests' venv). A record
/// with a bad checksum reads as nothing, without an error, so every point
/// is counted, not only the reading.
final class TensorBoardTests: XCTestCase {
    private static let reader = """
    import json, sys
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
    accumulator.Reload()
    print(json.dumps({tag: [[event.step, event.value] for event in accumulator.Scalars(tag)]
                      for tag in accumulator.Tags()["scalars"]}))
    """

    func testTensorBoardReadsEveryStepAndTheEpochFiguresOfMetricsJSONL() throws {
        let python = try PythonEnvironment.python(importing: ["tensorboard"], installs: [[["tensorboard"]]])
        let out = try temporaryFolder()
        let epochs = 2, steps = 40
        let run = try DPTrain.run([
            "simulate", "--workers", "2", "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest,
            "--layers", "784,32,10", "--epochs", String(epochs), "--batch-size", "128", "--lr-decay", "0.5",
            "--seed", "5", "--out", out.path,
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let scalars = try read(out, python)

        let perStep = ["train/loss", "train/accuracy", "train/learning_rate", "train/gradient_norm",
                       "speed/samples_per_second", "speed/compute_ms", "speed/communication_ms", "cluster/workers"]
        for tag in perStep {
            XCTAssertEqual(scalars[tag]?.map(\.step), Array(1...(epochs * steps)), "\(tag): one point per step")
        }
        XCTAssertEqual(Set(scalars["cluster/workers"]?.map(\.value) ?? []), [2])
        XCTAssertEqual(scalars["train/learning_rate"]?.first?.value ?? 0, 0.1, accuracy: 1e-7)
        XCTAssertEqual(scalars["train/learning_rate"]?.last?.value ?? 0, 0.05, accuracy: 1e-7)
        XCTAssertTrue(scalars["train/gradient_norm"]?.allSatisfy { $0.value > 0 && $0.value.isFinite } ?? false)
        for (compute, communication) in zip(scalars["speed/compute_ms"] ?? [], scalars["speed/communication_ms"] ?? []) {
            XCTAssertTrue(compute.value > 0 && communication.value >= 0, "\(compute) \(communication)")
        }

        let lines = try metrics(in: out)
        XCTAssertEqual(lines.count, epochs)
        let epochTags = [
            "epoch/loss": "loss", "epoch/train_accuracy": "train_accuracy", "epoch/test_loss": "test_loss",
            "epoch/test_accuracy": "test_accuracy", "epoch/learning_rate": "lr",
            "epoch/samples_per_second": "samples_per_second", "epoch/workers": "workers",
            "epoch/elapsed_seconds": "elapsed_seconds", "epoch/comm_fraction": "comm_fraction",
        ]
        for (tag, key) in epochTags {
            let points = try XCTUnwrap(scalars[tag], "no \(tag) in \(scalars.keys.sorted())")
            XCTAssertEqual(points.map(\.step), lines.map { $0["step"] as! Int }, tag)
            for (point, line) in zip(points, lines) {
                let expected = try XCTUnwrap((line[key] as? NSNumber)?.doubleValue, key)
                // metrics.jsonl rounds (6 digits, 1 for samples/s, 3 for seconds); TensorBoard keeps a Float.
                XCTAssertEqual(point.value, expected, accuracy: max(abs(expected) * 1e-6, 0.06), "\(tag) at step \(point.step)")
            }
        }
    }

    /// A resumed run adds a file of its own; together they hold every step once.
    func testAResumedRunContinuesTheCurvesWithoutRepeats() throws {
        let python = try PythonEnvironment.python(importing: ["tensorboard"], installs: [[["tensorboard"]]])
        let out = try temporaryFolder()
        func train(_ epochs: Int, _ extra: [String]) throws {
            let result = try DPTrain.run(["train"] + extra + [
                "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,16,10",
                "--epochs", String(epochs), "--batch-size", "250", "--seed", "5",
            ])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        try train(1, ["--out", out.path])
        try train(2, ["--resume", out.path])
        let files = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("tensorboard").path)
        XCTAssertEqual(files.filter { $0.hasPrefix("events.out.tfevents.") }.count, 2, "\(files)")
        let scalars = try read(out, python)
        XCTAssertEqual(scalars["train/loss"]?.map(\.step), Array(1...40))
        XCTAssertEqual(scalars["epoch/test_accuracy"]?.map(\.step), [20, 40])

        // A fresh run in the same folder starts the curves afresh.
        try train(1, ["--out", out.path])
        XCTAssertEqual(try read(out, python)["train/loss"]?.map(\.step), Array(1...20))
    }

    private func read(_ run: URL, _ python: String) throws -> [String: [(step: Int, value: Double)]] {
        let result = try Python.run(Self.reader, [run.appendingPathComponent("tensorboard").path], python: python)
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: [[Double]]], result.text)
        return object.mapValues { $0.map { (Int($0[0]), $0[1]) } }
    }
}
