import Datasets
import MLP

/// Loss and accuracy of a model on a whole split, forward only, in chunks.
public final class Evaluator {
    private let architecture: Architecture
    private let chunk: Int
    private let workspace: GradientWorkspace
    private let inputs: UnsafeMutableBufferPointer<Float>

    public init(architecture: Architecture, chunk: Int = 500) {
        self.architecture = architecture
        self.chunk = chunk
        workspace = GradientWorkspace(architecture: architecture, maxBatch: chunk)
        inputs = .allocate(capacity: chunk * architecture.inputSize)
    }

    deinit { inputs.deallocate() }

    /// Mean loss and the fraction classified correctly.
    public func evaluate(_ weights: UnsafeBufferPointer<Float>, on data: LabeledImages) -> (loss: Double, accuracy: Double) {
        guard data.count > 0 else { return (0, 0) }
        var lossSum = 0.0, correct = 0
        let size = data.inputSize
        data.pixels.withUnsafeBufferPointer { pixels in
            data.labels.withUnsafeBufferPointer { labels in
                var start = 0
                while start < data.count {
                    let batch = min(chunk, data.count - start)
                    let scaled = UnsafeMutableBufferPointer(rebasing: inputs[0..<(batch * size)])
                    PixelScaling.normalise(UnsafeBufferPointer(rebasing: pixels[(start * size)..<((start + batch) * size)]), into: scaled)
                    let result = workspace.evaluate(
                        parameters: weights, inputs: UnsafeBufferPointer(scaled),
                        labels: UnsafeBufferPointer(rebasing: labels[start..<(start + batch)]), batch: batch)
                    lossSum += result.lossSum
                    correct += result.correct
                    start += batch
                }
            }
        }
        return (lossSum / Double(data.count), Double(correct) / Double(data.count))
    }
}
