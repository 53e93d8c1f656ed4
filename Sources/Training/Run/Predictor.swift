import Datasets
import Foundation
import MLP

/// What a model says about one image: the class it picks and the softmax of
/// its outputs.
public struct Prediction: Equatable, Sendable {
    /// The argmax of the outputs, ties to the lowest index: the class
    /// `evaluate` counts as the model's answer.
    public let label: Int
    public let probabilities: [Float]

    public var probability: Float { probabilities[label] }
}

/// Classifies images (bytes 0–255, `inputSize` per image) with a saved
/// model, scaling pixels exactly as training does.
public final class Predictor {
    public let architecture: Architecture
    private let parameters: [Float]
    private let chunk: Int
    private let workspace: GradientWorkspace

    public init(architecture: Architecture, parameters: [Float], chunk: Int = 500) {
        precondition(parameters.count == architecture.parameterCount, "parameters do not fit the architecture")
        self.architecture = architecture
        self.parameters = parameters
        self.chunk = chunk
        workspace = GradientWorkspace(architecture: architecture, maxBatch: chunk)
    }

    /// One prediction per image in `pixels` (a whole number of images).
    public func predict(pixels: [UInt8]) -> [Prediction] {
        let size = architecture.inputSize, classes = architecture.outputSize
        precondition(pixels.count % size == 0, "\(pixels.count) bytes are not whole images of \(size)")
        let count = pixels.count / size
        var predictions: [Prediction] = []
        predictions.reserveCapacity(count)
        var inputs = [Float](repeating: 0, count: chunk * size)
        var outputs = [Float](repeating: 0, count: chunk * classes)
        var start = 0
        while start < count {
            let batch = min(chunk, count - start)
            pixels.withUnsafeBufferPointer { source in
                inputs.withUnsafeMutableBufferPointer { scaled in
                    PixelScaling.normalise(UnsafeBufferPointer(rebasing: source[(start * size)..<((start + batch) * size)]),
                                           into: UnsafeMutableBufferPointer(rebasing: scaled[0..<(batch * size)]))
                }
            }
            parameters.withUnsafeBufferPointer { weights in
                inputs.withUnsafeBufferPointer { scaled in
                    outputs.withUnsafeMutableBufferPointer {
                        workspace.outputs(parameters: weights, inputs: scaled, batch: batch, into: $0)
                    }
                }
            }
            for row in 0..<batch {
                predictions.append(Self.prediction(Array(outputs[(row * classes)..<((row + 1) * classes)])))
            }
            start += batch
        }
        return predictions
    }

    /// Softmax with the largest output subtracted first, so no logit overflows.
    static func prediction(_ logits: [Float]) -> Prediction {
        var best = 0
        for j in 1..<logits.count where logits[j] > logits[best] { best = j }
        let exponentials = logits.map { Foundation.exp(Double($0 - logits[best])) }
        let sum = exponentials.reduce(0, +)
        return Prediction(label: best, probabilities: exponentials.map { Float($0 / sum) })
    }
}
