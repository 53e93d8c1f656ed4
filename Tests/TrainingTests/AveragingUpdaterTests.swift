import Collective
import Datasets
import MLP
import Training
import XCTest

/// The update in this process: the loop's step over a gradient source.
final class AveragingUpdaterTests: XCTestCase {
    private let architecture = try! Architecture(layerSizes: [4, 3, 2], activation: .relu)

    private func images(_ count: Int) -> LabeledImages {
        LabeledImages(rows: 2, columns: 2, pixels: (0..<(count * 4)).map { UInt8(($0 * 37) % 256) },
                      labels: (0..<count).map { UInt8($0 % 2) })
    }

    /// A source that lends the weights to a "send" and, by mistake, never settles them.
    private final class ForgetfulSource: GradientSource {
        let inner: LocalGradientSource
        init(_ inner: LocalGradientSource) { self.inner = inner }
        var workerCount: Int { 1 }
        func compute(_ work: StepWork, weights: LendableBuffer<Float>, into sum: GradientSum) throws {
            _ = weights.lendAll()
            try inner.compute(work, weights: weights, into: sum)
        }
    }

    private func work(samples: Int) -> StepWork {
        StepWork(globalStep: 0, shards: [0..<(samples / 2), (samples / 2)..<samples], order: (0..<Int32(samples)).map { $0 })
    }

    func testWeightsStillLentToASendAreNotWritten() throws {
        let data = images(8)
        let source = ForgetfulSource(LocalGradientSource(data: data, architecture: architecture, shardSize: 4))
        let updater = AveragingUpdater(source: source, parameterCount: architecture.parameterCount,
                                       optimiser: OptimiserSettings(learningRate: 0.1, momentum: 0.9))
        let initial = ParameterBuffer.initialised(architecture, seed: 3)
        // A named buffer kept alive: a temporary's pointer may outlive the object (a NaN here, once in a full run).
        let zeros = ParameterBuffer(count: architecture.parameterCount)
        try withExtendedLifetime(zeros) { try updater.load(weights: initial.readOnly, velocity: zeros.readOnly, step: 0) }
        XCTAssertThrowsError(try updater.step(work(samples: 8), learningRate: 0.1, next: nil)) { error in
            XCTAssertTrue(error is BufferStillLent, "\(error)")
        }
        XCTAssertEqual(Array(try updater.state().weights), Array(initial.readOnly), "the lent weights were changed")
    }

    func testAStepAveragesTheExactSumAndAppliesSGD() throws {
        let data = images(8)
        let source = LocalGradientSource(data: data, architecture: architecture, shardSize: 4)
        let updater = AveragingUpdater(source: source, parameterCount: architecture.parameterCount,
                                       optimiser: OptimiserSettings(learningRate: 0.1, momentum: 0))
        let initial = ParameterBuffer.initialised(architecture, seed: 3)
        // A named buffer kept alive: a temporary's pointer may outlive the object (a NaN here, once in a full run).
        let zeros = ParameterBuffer(count: architecture.parameterCount)
        try withExtendedLifetime(zeros) { try updater.load(weights: initial.readOnly, velocity: zeros.readOnly, step: 0) }
        let tally = try updater.step(work(samples: 8), learningRate: 0.1, next: nil)
        XCTAssertTrue(tally.finite)
        XCTAssertEqual(tally.samples, 8)

        // Independently: each shard's Float gradient in Double, averaged, one plain SGD step.
        let workspace = GradientWorkspace(architecture: architecture, maxBatch: 4)
        var expected = Array(initial.readOnly).map(Double.init)
        var mean = [Double](repeating: 0, count: architecture.parameterCount)
        for shard in [0..<4, 4..<8] {
            let inputs = data.pixels[(shard.lowerBound * 4)..<(shard.upperBound * 4)].map { Float($0) / 255 }
            var gradient = [Float](repeating: 0, count: architecture.parameterCount)
            let labels = Array(data.labels[shard])
            inputs.withUnsafeBufferPointer { inputs in
                labels.withUnsafeBufferPointer { labels in
                    gradient.withUnsafeMutableBufferPointer { gradient in
                        _ = workspace.computeGradient(parameters: initial.readOnly, inputs: inputs, labels: labels, batch: 4, gradient: gradient)
                    }
                }
            }
            for i in mean.indices { mean[i] += Double(gradient[i]) / 8 }
        }
        for i in expected.indices { expected[i] -= 0.1 * mean[i] }
        let weights = Array(try updater.state().weights)
        for i in weights.indices {
            XCTAssertEqual(Double(weights[i]), expected[i], accuracy: 1e-6, "parameter \(i)")
        }
    }
}
