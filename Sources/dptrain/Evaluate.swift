import ArgumentParser
import Cluster
import Datasets
import Foundation
import MLP

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and accuracy of a saved model on a test set.")

    @Option(help: "A model written by training: RUN_DIR/model.safetensors.")
    var model: String
    @Option(help: "Data set by name: mnist or fashion-mnist.")
    var dataset: String?
    @Option(help: "Folder holding the t10k- pair.")
    var data: String?

    func run() throws {
        let file = try Safetensors.read(from: URL(fileURLWithPath: model))
        let (architecture, parameters) = try ModelFile.decode(file, source: model)
        var options = try TrainingOptions.parse(["--layers", "1,1"])
        options.dataset = dataset
        options.data = data
        let folder: URL
        switch try options.dataSource() {
        case .folder(let path): folder = URL(fileURLWithPath: path)
        case .named(let name): folder = try DatasetLocator().resolve(name, mirrors: nil, log: note)
        }
        let test = try DatasetFiles.load(directory: folder, split: .test)
        try TrainingData(train: test, test: test).check(against: architecture)
        let result = parameters.withUnsafeBufferPointer {
            Evaluator(architecture: architecture).evaluate($0, on: test)
        }
        let report: [String: Any] = [
            "model": model, "samples": test.count,
            "test_loss": (result.loss * 1e6).rounded() / 1e6, "test_accuracy": (result.accuracy * 1e6).rounded() / 1e6,
        ]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: json, as: UTF8.self))
    }
}
