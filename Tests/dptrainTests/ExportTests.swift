import Foundation
import XCTest

/// `dptrain export --format onnx` run by onnxruntime, and model.safetensors
/// loaded into PyTorch: both must give evaluate's answers on the 10,000 real
/// MNIST test digits. Python packages come from PyPI (PythonEnvironment).
final class ExportTests: XCTestCase {
    func testONNXRuntimeGivesEvaluatesClassesAndProbabilities() throws {
        let python = try PythonEnvironment.withONNXRuntime()
        for (layers, activation) in [("784,64,10", "relu"), ("784,32,16,10", "leaky-relu"),
                                     ("784,32,10", "sigmoid"), ("784,32,10", "tanh")] {
            let model = try ModelUse.train(layers: layers, activation: activation)
            let onnx = model.deletingLastPathComponent().appendingPathComponent("model.onnx")
            let export = try DPTrain.run(["export", "--model", model.path, "--format", "onnx", "--out", onnx.path])
            XCTAssertEqual(export.status, 0, export.stderr)
            let (accuracy, rows) = try ModelUse.evaluate(model)
            XCTAssertEqual(rows.count, 10_000)
            // The CSV is the same model's answers: its share of right answers is evaluate's accuracy.
            let right = rows.filter { $0.label == $0.predicted }.count
            XCTAssertEqual(Double(right) / 10_000, accuracy, accuracy: 1e-6, activation)

            let ort = try PythonEnvironment.json(python, script: "onnx_check.py",
                                                 [onnx.path, DPTrain.mnistTest, ModelUse.predictionsCSV(model).path])
            XCTAssertEqual(ort["samples"] as? Int, 10_000, activation)
            XCTAssertEqual(ort["disagreements"] as? Int, 0, activation)
            XCTAssertLessThanOrEqual(try XCTUnwrap(ort["max_probability_difference"] as? Double), 1e-5, activation)
            XCTAssertEqual(try XCTUnwrap(ort["accuracy"] as? Double), accuracy, accuracy: 1e-6, activation)
        }
    }

    func testPyTorchSequentialGetsEvaluatesAccuracy() throws {
        let python = try PythonEnvironment.withTorch()
        for (layers, activation) in [("784,64,32,10", "relu"), ("784,32,10", "leaky-relu")] {
            let model = try ModelUse.train(layers: layers, activation: activation)
            let (accuracy, _) = try ModelUse.evaluate(model)
            let torch = try PythonEnvironment.json(python, script: "torch_accuracy.py", [model.path, DPTrain.mnistTest])
            XCTAssertEqual(torch["samples"] as? Int, 10_000)
            XCTAssertEqual(try XCTUnwrap(torch["accuracy"] as? Double), accuracy, accuracy: 1e-6, "\(torch)")
            XCTAssertTrue((torch["model"] as? String ?? "").hasPrefix("Sequential("), "\(torch)")
        }
    }

    func testBadInputIsOneLineNamingTheFileOrFlag() throws {
        let folder = try temporaryFolder()
        let model = try ModelUse.train(layers: "784,16,10", activation: "relu")
        let corrupt = folder.appendingPathComponent("corrupt.safetensors")
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9]).write(to: corrupt)
        let out = folder.appendingPathComponent("model.onnx").path
        let cases: [(arguments: [String], status: Int32, names: String)] = [
            (["--model", folder.appendingPathComponent("missing.safetensors").path, "--format", "onnx", "--out", out], 2, "missing.safetensors"),
            (["--model", corrupt.path, "--format", "onnx", "--out", out], 2, "corrupt.safetensors"),
            (["--model", model.path, "--format", "tflite", "--out", out], 2, "--format"),
            (["--model", model.path, "--format", "onnx", "--out", "/nonexistent-folder/model.onnx"], 2, "--out"),
            // A folder in the way: the rename fails, a failure of the write rather than of the input.
            (["--model", model.path, "--format", "onnx", "--out", folder.path], 1, folder.path),
            // A folder where no file can be made: the line names --out, not AtomicFile's temporary file.
            (["--model", model.path, "--format", "onnx", "--out", "/proc/model.onnx"], 1, "dptrain: /proc/model.onnx: cannot create"),
        ]
        for (arguments, status, names) in cases {
            let result = try DPTrain.run(["export"] + arguments)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(names), "\(result.stderr) should name \(names)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused export wrote \(out)")
    }
}
