import Datasets
import Foundation
import MLP

/// A model's answer for every test image: the predicted class (the largest
/// output, ties to the lowest index, as `evaluate` counts) and its softmax
/// probability. Chunks of 500 like the Evaluator, so the outputs, and the
/// accuracy, are evaluate's to the bit.
public struct TestPredictions {
    public let predicted: [Int]
    public let confidence: [Double]
    public let confusion: ConfusionMatrix

    public init(parameters: [Float], architecture: Architecture, test: LabeledImages, chunk: Int = 500) {
        let classes = architecture.outputSize, size = test.inputSize
        let workspace = GradientWorkspace(architecture: architecture, maxBatch: chunk)
        var inputs = [Float](repeating: 0, count: chunk * size)
        var outputs = [Float](repeating: 0, count: chunk * classes)
        var predicted: [Int] = [], confidence: [Double] = []
        var confusion = ConfusionMatrix(classes: classes)
        predicted.reserveCapacity(test.count)
        confidence.reserveCapacity(test.count)
        var start = 0
        while start < test.count {
            let batch = min(chunk, test.count - start)
            test.pixels.withUnsafeBufferPointer { pixels in
                inputs.withUnsafeMutableBufferPointer { scaled in
                    PixelScaling.normalise(UnsafeBufferPointer(rebasing: pixels[(start * size)..<((start + batch) * size)]),
                                           into: UnsafeMutableBufferPointer(rebasing: scaled[0..<(batch * size)]))
                }
            }
            parameters.withUnsafeBufferPointer { weights in
                inputs.withUnsafeBufferPointer { scaled in
                    outputs.withUnsafeMutableBufferPointer { out in
                        workspace.outputs(parameters: weights, inputs: scaled, batch: batch, into: out)
                    }
                }
            }
            for row in 0..<batch {
                let z = outputs[(row * classes)..<((row + 1) * classes)]
                var best = z.startIndex
                for j in z.indices where z[j] > z[best] { best = j }
                let largest = Double(z[best])
                let sum = z.reduce(0.0) { $0 + Foundation.exp(Double($1) - largest) }
                let label = best - z.startIndex
                predicted.append(label)
                confidence.append(1 / sum)
                confusion.add(actual: Int(test.labels[start + row]), predicted: label)
            }
            start += batch
        }
        self.predicted = predicted
        self.confidence = confidence
        self.confusion = confusion
    }

    /// Test images the model got wrong, most confident first.
    public func confidentMistakes(labels: [UInt8], count: Int) -> [Int] {
        let wrong = predicted.indices.filter { predicted[$0] != Int(labels[$0]) }
        return Array(wrong.sorted { confidence[$0] != confidence[$1] ? confidence[$0] > confidence[$1] : $0 < $1 }.prefix(count))
    }
}
