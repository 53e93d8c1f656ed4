import ArgumentParser
import Training
import Datasets
import Foundation
import MLP

/// `dptrain evaluate`: a saved model's loss and accuracy on a test set.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and accuracy of a saved model on a test set.")

    @Option(help: "A model written by training: RUN_DIR/model.safetensors.")
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Also write every test image's predicted class and probabilities to this CSV file.")
    var predictions: String?

    func run() throws {
        let file = try Safetensors.read(from: URL(fileURLWithPath: model))
        let (architecture, parameters) = try ModelFile.decode(file, source: model)
        let test = try DatasetFiles.load(directory: try data.source().folder(log: Output.standard().log), split: .test)
        try TrainingData.check(test, named: "test", against: architecture)
        let result = parameters.withUnsafeBufferPointer {
            Evaluator(architecture: architecture).evaluate($0, on: test)
        }
        if let predictions {
            let answers = Predictor(architecture: architecture, parameters: parameters).predict(pixels: test.pixels)
            try AtomicFile.write(PredictionsFile.encode(answers, labels: test.labels), to: URL(fileURLWithPath: predictions))
        }
        let report: [String: Any] = [
            "model": model, "samples": test.count,
            "test_loss": (result.loss * 1e6).rounded() / 1e6, "test_accuracy": (result.accuracy * 1e6).rounded() / 1e6,
        ]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: json, as: UTF8.self))
    }
}
