import Datasets
import MLP
import Training

/// A model's answer for every test image (Training's Predictor: the largest
/// output, ties to the lowest index, as `evaluate` counts, and its softmax
/// probability), and the confusion matrix they make with the labels.
public struct TestPredictions {
    public let predicted: [Int]
    public let confidence: [Double]
    public let confusion: ConfusionMatrix

    public init(parameters: [Float], architecture: Architecture, test: LabeledImages) {
        let predictions = Predictor(architecture: architecture, parameters: parameters).predict(pixels: test.pixels)
        predicted = predictions.map(\.label)
        confidence = predictions.map { Double($0.probability) }
        var confusion = ConfusionMatrix(classes: architecture.outputSize)
        for (label, guess) in zip(test.labels, predicted) { confusion.add(actual: Int(label), predicted: guess) }
        self.confusion = confusion
    }

    /// Test images the model got wrong, most confident first.
    public func confidentMistakes(labels: [UInt8], count: Int) -> [Int] {
        let wrong = predicted.indices.filter { predicted[$0] != Int(labels[$0]) }
        return Array(wrong.sorted { confidence[$0] != confidence[$1] ? confidence[$0] > confidence[$1] : $0 < $1 }.prefix(count))
    }
}
