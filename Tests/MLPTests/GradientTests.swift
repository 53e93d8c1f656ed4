import Foundation
import MLP
import XCTest

/// The gradient against central finite differences of an independent Double
/// forward pass written here, not in the library.
///
/// Error budget: the Double differences with h = 1e-6 on an O(1) loss have
/// truncation error ~h² and rounding ~1e-16/h, both below 1e-9. The Float
/// gradient carries rounding of a few dozen operations per entry, each
/// relative error 2^-24 ≈ 6e-8, so a few 1e-6 of the magnitudes involved
/// (O(1) here). The bound 2e-5 · max(1, |g|) therefore leaves an order of
/// magnitude of slack, yet a wrong term (a missing factor, a transposed
/// index, a lost bias row) is off by O(1) and fails at once.
final class GradientTests: XCTestCase {
    let sizes = [5, 4, 3, 3]
    let batch = 4

    func testEveryActivationWithEveryLossMatchesFiniteDifferences() throws {
        for activation in Activation.allCases {
            for loss in Loss.allCases {
                let architecture = try Architecture(layerSizes: sizes, activation: activation, loss: loss)
                assertMatchesFiniteDifferences(architecture, batch: batch, seed: 3)
            }
        }
    }

    /// Hidden layers sum their bias gradients sixteen samples at a time:
    /// 37 = 2·16 + 5 exercises whole groups and the remainder, in a
    /// workspace with room for more samples than the batch holds.
    func testBatchOfSeveralLaneGroupsMatchesFiniteDifferences() throws {
        let architecture = try Architecture(layerSizes: sizes, activation: .tanh)
        assertMatchesFiniteDifferences(architecture, batch: 37, seed: 4,
                                       workspace: GradientWorkspace(architecture: architecture, maxBatch: 40))
    }

    func testGradientOverwritesAndRepeatsExactly() throws {
        let architecture = try Architecture(layerSizes: sizes, activation: .relu)
        let (parameters, inputs, labels) = problem(architecture, seed: 5)
        let workspace = GradientWorkspace(architecture: architecture, maxBatch: 16)
        // The helper fills the gradient with NaN first: nothing may survive.
        let first = gradient(architecture, parameters, inputs: inputs, labels: labels, workspace: workspace)
        XCTAssertFalse(first.gradient.contains { $0.isNaN })
        _ = gradient(architecture, parameters, inputs: Array(inputs.reversed()), labels: labels, workspace: workspace)
        let again = gradient(architecture, parameters, inputs: inputs, labels: labels, workspace: workspace)
        XCTAssertEqual(first.gradient.map(\.bitPattern), again.gradient.map(\.bitPattern))
        XCTAssertEqual(first.result, again.result)
        XCTAssertEqual(first.result, evaluate(architecture, parameters, inputs: inputs, labels: labels))
    }

    private func assertMatchesFiniteDifferences(_ architecture: Architecture, batch: Int, seed: UInt64,
                                                workspace: GradientWorkspace? = nil,
                                                file: StaticString = #filePath, line: UInt = #line) {
        let (parameters, inputs, labels) = problem(architecture, seed: seed, batch: batch)
        let (analytic, result) = gradient(architecture, parameters, inputs: inputs, labels: labels, workspace: workspace)

        let reference = ReferenceNetwork(architecture: architecture, inputs: inputs, labels: labels)
        let base = parameters.values.map(Double.init)
        XCTAssertEqual(result.lossSum, reference.loss(base), accuracy: 1e-5 * max(1, result.lossSum),
                       file: file, line: line)

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

    /// Parameters with nonzero biases (so bias paths count), inputs and labels.
    private func problem(_ architecture: Architecture, seed: UInt64, batch: Int? = nil) -> (ParameterBuffer, [Float], [UInt8]) {
        let batch = batch ?? self.batch
        let parameters = ParameterBuffer.initialised(architecture, seed: seed)
        var generator = SeededGenerator(seed: seed &+ 100)
        for layer in 0..<architecture.layerCount {
            let bias = parameters.bias(layer: layer)
            for i in bias.indices { bias[i] = generator.nextSymmetric(bound: 0.5) }
        }
        let inputs = (0..<batch * architecture.inputSize).map { _ in generator.nextSymmetric(bound: 2) }
        let labels = (0..<batch).map { _ in UInt8(generator.next() % UInt64(architecture.outputSize)) }
        return (parameters, inputs, labels)
    }
}

/// The summed loss in Double, one sample and one neuron at a time, straight
/// from the definitions.
struct ReferenceNetwork {
    let architecture: Architecture
    let inputs: [Float]
    let labels: [UInt8]
    /// Multiplies hidden unit (sample, layer, unit)'s activation: dropout's mask.
    var mask: (_ sample: Int, _ layer: Int, _ unit: Int) -> Double = { _, _, _ in 1 }
    /// Label smoothing ε.
    var smoothing = 0.0

    func loss(_ parameters: [Double]) -> Double {
        let sizes = architecture.layerSizes
        var total = 0.0
        for sample in labels.indices {
            var a = (0..<sizes[0]).map { Double(inputs[sample * sizes[0] + $0]) }
            var offset = 0
            for layer in 0..<sizes.count - 1 {
                let (inputCount, outputCount) = (sizes[layer], sizes[layer + 1])
                let biasOffset = offset + inputCount * outputCount
                var z = [Double](repeating: 0, count: outputCount)
                for j in 0..<outputCount {
                    z[j] = parameters[biasOffset + j]
                    for k in 0..<inputCount { z[j] += parameters[offset + j * inputCount + k] * a[k] }
                }
                offset = biasOffset + outputCount
                a = layer == sizes.count - 2 ? z : z.indices.map { activate(z[$0]) * mask(sample, layer, $0) }
            }
            let label = Int(labels[sample])
            let classes = Double(a.count)
            let target = a.indices.map { ($0 == label ? 1 - smoothing : 0) + smoothing / classes }
            switch architecture.loss {
            case .crossEntropy:
                let logSum = log(a.map { exp($0) }.reduce(0, +))
                total += a.indices.map { target[$0] * (logSum - a[$0]) }.reduce(0, +)
            case .meanSquaredError:
                total += 0.5 * a.indices.map { pow(a[$0] - target[$0], 2) }.reduce(0, +)
            }
        }
        return total
    }

    private func activate(_ z: Double) -> Double {
        switch architecture.activation {
        case .relu: return max(z, 0)
        case .leakyRelu: return z > 0 ? z : 0.01 * z
        case .sigmoid: return 1 / (1 + exp(-z))
        case .tanh: return Foundation.tanh(z)
        }
    }
}
