import ArgumentParser
import Datasets
import Foundation
import Images
import MLP
import Training

/// `dptrain predict`: classifies pictures of one's own with a saved model.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify PNG or PGM images with a saved model.",
        discussion: """
            Each image becomes grey, is resized to 28x28 (area resampling) and, with --invert auto, \
            inverted when its border is light, since MNIST digits are light on a dark background. \
            Prints one line per image: FILE: CLASS [NAME] probability P.
            """)

    @Option(help: "A model written by training: RUN_DIR/model.safetensors.")
    var model: String
    @Option(help: "Name the classes as this data set does: mnist or fashion-mnist (default: the label number only).")
    var classes: String?
    @Option(help: "Invert to light-on-dark: auto (when the border is light), always or never.")
    var invert: String = InvertPolicy.auto.rawValue
    @Argument(help: "PNG or PGM images.")
    var images: [String] = []

    func run() throws {
        guard !images.isEmpty else { throw UsageError("give at least one IMAGE to classify") }
        guard let policy = InvertPolicy(rawValue: invert) else {
            throw UsageError("--invert: unknown '\(invert)' (auto, always, never)")
        }
        let names = try classNames()
        let file = try Safetensors.read(from: URL(fileURLWithPath: model))
        let (architecture, parameters) = try ModelFile.decode(file, source: model)
        let side = Int(Double(architecture.inputSize).squareRoot().rounded())
        guard side * side == architecture.inputSize else {
            throw UsageError("\(model): the model takes \(architecture.inputSize) inputs, not a square image")
        }
        let inputs = try images.map { try ImageFile.read($0).modelInput(side: side, invert: policy) }
        let predictions = Predictor(architecture: architecture, parameters: parameters)
            .predict(pixels: inputs.flatMap { $0.image.pixels })
        for (index, prediction) in predictions.enumerated() {
            var line = "\(images[index]): \(prediction.label)"
            if let names, prediction.label < names.count { line += " \(names[prediction.label])" }
            line += " probability " + String(format: "%.4f", prediction.probability)
            if inputs[index].inverted { line += " (inverted)" }
            print(line)
        }
    }

    private func classNames() throws -> [String]? {
        guard let classes else { return nil }
        guard let dataset = DatasetName(rawValue: classes) else {
            let known = DatasetName.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError("--classes: unknown '\(classes)' (\(known))")
        }
        return dataset.classNames
    }
}
