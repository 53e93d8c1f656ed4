import Foundation
import MLP
import XCTest

/// Dropout's mask (rate, scaling, who computes it) and the gradients of a
/// network with dropout and label smoothing against finite differences of
/// the Double reference network with the same mask.
final class DropoutTests: XCTestCase {
    func testMaskDropsAboutTheRateAndScalesTheRest() {
        for rate: Float in [0.1, 0.3, 0.5, 0.9] {
            var dropped = 0, total = 0
            for sample in 0..<200 {
                for unit in 0..<250 {
                    let value = GradientWorkspace.dropoutMask(seed: 5, rate: rate, step: 17, sample: UInt64(sample), layer: 0, unit: unit)
                    if value == 0 { dropped += 1 } else { XCTAssertEqual(value, Float(1 / (1 - Double(rate)))) }
                    total += 1
                }
            }
            // 50,000 draws: the standard deviation of the rate is at most 0.0023; 5 of them.
            XCTAssertEqual(Double(dropped) / Double(total), Double(rate), accuracy: 0.0115, "rate \(rate)")
        }
    }

    func testMasksDifferBySeedStepSampleAndLayer() {
        func mask(seed: UInt64 = 1, step: UInt64 = 2, sample: UInt64 = 3, layer: Int = 0) -> [Float] {
            (0..<256).map { GradientWorkspace.dropoutMask(seed: seed, rate: 0.5, step: step, sample: sample, layer: layer, unit: $0) }
        }
        let base = mask()
        XCTAssertEqual(base, mask(), "a pure function of its key")
        for other in [mask(seed: 9), mask(step: 3), mask(sample: 4), mask(layer: 1)] { XCTAssertNotEqual(base, other) }
    }

    /// A shard's gradient depends on where its samples sit in the step's
    /// batch, not on how the batch was cut: two half shards give the full
    /// shard's loss (the masks follow the samples).
    func testMaskFollowsTheSampleNotTheShard() throws {
        let architecture = try Architecture(layerSizes: [6, 8, 3], activation: .relu)
        let options = GradientOptions(seed: 3, dropout: [0.5])
        let parameters = ParameterBuffer.initialised(architecture, seed: 2)
        var generator = SeededGenerator(seed: 4)
        let inputs = (0..<(4 * 6)).map { _ in generator.nextSymmetric(bound: 1) }
        let labels: [UInt8] = [0, 1, 2, 1]
        func loss(_ rows: Range<Int>) -> Double {
            let workspace = GradientWorkspace(architecture: architecture, maxBatch: 4, options: options)
            var gradient = [Float](repeating: 0, count: architecture.parameterCount)
            return Array(inputs[(rows.lowerBound * 6)..<(rows.upperBound * 6)]).withUnsafeBufferPointer { x in
                Array(labels[rows]).withUnsafeBufferPointer { y in
                    gradient.withUnsafeMutableBufferPointer { g in
                        workspace.computeGradient(parameters: parameters.readOnly, inputs: x, labels: y, batch: rows.count,
                                                  gradient: g, step: 7, firstSample: UInt64(rows.lowerBound)).lossSum
                    }
                }
            }
        }
        XCTAssertEqual(loss(0..<2) + loss(2..<4), loss(0..<4), accuracy: 1e-5)
        XCTAssertNotEqual(loss(0..<4), evaluate(architecture, parameters, inputs: inputs, labels: labels).lossSum,
                          "dropout changed nothing")
    }

    func testGradientWithDropoutAndSmoothingMatchesFiniteDifferences() throws {
        for activation in [Activation.relu, .sigmoid, .tanh] {
            for loss in Loss.allCases {
                let architecture = try Architecture(layerSizes: [5, 6, 4, 3], activation: activation, loss: loss)
                let options = GradientOptions(seed: 8, dropout: [0.5, 0.25], labelSmoothing: 0.1)
                check(architecture, options: options)
            }
        }
    }

    private func check(_ architecture: Architecture, options: GradientOptions, file: StaticString = #filePath, line: UInt = #line) {
        let batch = 4, step: UInt64 = 12, firstSample: UInt64 = 64
        let parameters = ParameterBuffer.initialised(architecture, seed: 6)
        var generator = SeededGenerator(seed: 7)
        for layer in 0..<architecture.layerCount {
            let bias = parameters.bias(layer: layer)
            for i in bias.indices { bias[i] = generator.nextSymmetric(bound: 0.5) }
        }
        let inputs = (0..<(batch * architecture.inputSize)).map { _ in generator.nextSymmetric(bound: 1) }
        let labels: [UInt8] = [0, 2, 1, 2]
        let workspace = GradientWorkspace(architecture: architecture, maxBatch: batch, options: options)
        var analytic = [Float](repeating: .nan, count: architecture.parameterCount)
        let result = inputs.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                analytic.withUnsafeMutableBufferPointer { g in
                    workspace.computeGradient(parameters: parameters.readOnly, inputs: x, labels: y, batch: batch, gradient: g,
                                              step: step, firstSample: firstSample)
                }
            }
        }
        var reference = ReferenceNetwork(architecture: architecture, inputs: inputs, labels: labels)
        reference.smoothing = Double(options.labelSmoothing)
        reference.mask = { sample, layer, unit in
            Double(GradientWorkspace.dropoutMask(seed: options.seed, rate: options.dropout(hidden: layer), step: step,
                                                 sample: firstSample + UInt64(sample), layer: layer, unit: unit))
        }
        let base = parameters.values.map(Double.init)
        XCTAssertEqual(result.lossSum, reference.loss(base), accuracy: 1e-5 * max(1, result.lossSum), file: file, line: line)
        let h = 1e-6
        for i in base.indices {
            var plus = base, minus = base
            plus[i] += h
            minus[i] -= h
            let numeric = (reference.loss(plus) - reference.loss(minus)) / (2 * h)
            XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 2e-5 * max(1, abs(numeric)),
                           "\(architecture.activation) \(architecture.loss) parameter \(i)", file: file, line: line)
        }
    }
}
