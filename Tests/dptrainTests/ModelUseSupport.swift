import Foundation
import XCTest

/// Trained models and evaluate's answers for the tests that use models
/// elsewhere (ExportTests, PredictTests).
enum ModelUse {
    /// A model trained for one epoch on the 5,000 real MNIST digits (a few
    /// seconds), tested on the 10,000 real test digits.
    static func train(layers: String, activation: String) throws -> URL {
        let run = try temporaryFolder()
        let result = try DPTrain.run([
            "train", "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", layers,
            "--activation", activation, "--epochs", "1", "--out", run.path,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        return run.appendingPathComponent("model.safetensors")
    }

    /// `evaluate --predictions`: the accuracy it prints, and each row of the CSV it writes.
    static func evaluate(_ model: URL) throws -> (accuracy: Double, rows: [(label: Int, predicted: Int, probabilities: [Double])]) {
        let csv = predictionsCSV(model)
        let result = try DPTrain.run(["evaluate", "--model", model.path, "--data", DPTrain.mnistTest, "--predictions", csv.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let accuracy = try XCTUnwrap(report?["test_accuracy"] as? Double)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").dropFirst()
        let rows = lines.map { line -> (Int, Int, [Double]) in
            let fields = line.split(separator: ",")
            return (Int(fields[1])!, Int(fields[2])!, fields[3...].map { Double($0)! })
        }
        return (accuracy, rows)
    }

    /// Where `evaluate(_:)` has evaluate write its CSV: beside the model.
    static func predictionsCSV(_ model: URL) -> URL {
        model.deletingLastPathComponent().appendingPathComponent("predictions.csv")
    }
}
