import MLP
import XCTest

/// End to end: gradient, averaging and SGD together must learn XOR, which
/// no linear model can.
final class TrainingTests: XCTestCase {
    func testLearnsXOR() throws {
        for activation in Activation.allCases {
            let architecture = try Architecture(layerSizes: [2, 8, 2], activation: activation)
            let parameters = ParameterBuffer.initialised(architecture, seed: 1)
            let inputs: [Float] = [0, 0, 0, 1, 1, 0, 1, 1]
            let labels: [UInt8] = [0, 1, 1, 0]
            let workspace = GradientWorkspace(architecture: architecture, maxBatch: 4)
            let sgd = SGD(parameterCount: architecture.parameterCount,
                          settings: OptimiserSettings(learningRate: 0.5, momentum: 0.9))
            var last = BatchResult()
            for _ in 0..<500 {
                var (g, result) = gradient(architecture, parameters, inputs: inputs, labels: labels, workspace: workspace)
                for i in g.indices { g[i] /= 4 }
                g.withUnsafeBufferPointer { sgd.step(parameters: parameters.values, gradient: $0, learningRate: 0.5) }
                last = result
            }
            let final = evaluate(architecture, parameters, inputs: inputs, labels: labels)
            XCTAssertEqual(final.correct, 4, "\(activation)")
            XCTAssertLessThan(final.lossSum / 4, 0.05, "\(activation)")
            XCTAssertLessThan(final.lossSum, last.lossSum + 1e-3, "\(activation)")
        }
    }
}
