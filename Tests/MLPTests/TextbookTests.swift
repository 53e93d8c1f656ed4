import MLP
import XCTest

/// Small cases worked out by hand (or with a calculator), not by this library.
final class TextbookTests: XCTestCase {
    func testSingleLinearNeuron() throws {
        // 0.5·1 − 1·2 + 2·3 + 0.1 = 4.6
        let architecture = try Architecture(layerSizes: [3, 1], activation: .relu)
        let parameters = ParameterBuffer(architecture: architecture)
        setLayer(parameters, 0, weight: [0.5, -1, 2], bias: [0.1])
        XCTAssertEqual(outputs(architecture, parameters, inputs: [1, 2, 3])[0], 4.6, accuracy: 1e-6)
    }

    func testSigmoidLayer() throws {
        // z = W·[1, 1] + b = [1 − 1 + 0, 0.5 + 2 − 1] = [0, 1.5];
        // σ(0) = 0.5, σ(1.5) = 1/(1 + e^−1.5) = 0.8175744762. An identity output
        // layer passes the hidden activations through.
        let architecture = try Architecture(layerSizes: [2, 2, 2], activation: .sigmoid)
        let parameters = ParameterBuffer(architecture: architecture)
        setLayer(parameters, 0, weight: [1, -1, 0.5, 2], bias: [0, -1])
        setLayer(parameters, 1, weight: [1, 0, 0, 1], bias: [0, 0])
        let y = outputs(architecture, parameters, inputs: [1, 1])
        XCTAssertEqual(y[0], 0.5, accuracy: 1e-7)
        XCTAssertEqual(y[1], 0.8175744762, accuracy: 1e-6)
    }

    func testSoftmaxAndCrossEntropyOfKnownLogits() throws {
        // softmax([1, 2, 3]) = e^z / (e + e² + e³) = [0.0900306, 0.2447285, 0.6652410];
        // CE for label 2 = −log 0.6652410 = 0.4076060. The output bias's
        // gradient is dloss/dz = p − onehot, which exposes p.
        let (architecture, parameters) = try identity(3)
        let (g, result) = gradient(architecture, parameters, inputs: [1, 2, 3], labels: [2])
        XCTAssertEqual(result.lossSum, 0.4076060, accuracy: 1e-6)
        XCTAssertEqual(result.correct, 1)
        let probabilities = zip(g[9...], [0, 0, 1] as [Float]).map { $0 + $1 }
        for (p, expected) in zip(probabilities, [0.0900306, 0.2447285, 0.6652410] as [Float]) {
            XCTAssertEqual(p, expected, accuracy: 1e-6)
        }
    }

    func testCrossEntropyIsStableForHugeLogits() throws {
        // Softmax of [1000, 0, −1000] is [1, e^−1000, e^−2000] ≈ [1, 0, 0]:
        // the loss is 0 for label 0 and 1000 − (−1000) = 2000 for label 2.
        let (architecture, parameters) = try identity(3)
        let inputs: [Float] = [1000, 0, -1000, 1000, 0, -1000]
        let (g, result) = gradient(architecture, parameters, inputs: inputs, labels: [0, 2])
        XCTAssertEqual(result.lossSum, 2000, accuracy: 1e-3)
        XCTAssertEqual(result.correct, 1)
        XCTAssertTrue(g.allSatisfy(\.isFinite))
        // Bias gradient summed over both samples: (p − e0) + (p − e2) = [1, 0, −1].
        XCTAssertEqual(Array(g[9...]), [1, 0, -1])
    }

    func testMeanSquaredErrorOfKnownOutputs() throws {
        // ½((1−0)² + (2−0)² + (3−1)²) = 4.5; dloss/dz = z − onehot = [1, 2, 2].
        let (identityNet, parameters) = try identity(3)
        let architecture = try Architecture(layerSizes: identityNet.layerSizes, activation: .relu, loss: .meanSquaredError)
        let (g, result) = gradient(architecture, parameters, inputs: [1, 2, 3], labels: [2])
        XCTAssertEqual(result.lossSum, 4.5, accuracy: 1e-6)
        XCTAssertEqual(Array(g[9...]), [1, 2, 2])
    }

    func testArgmaxTiesGoToTheLowestIndex() throws {
        let (architecture, parameters) = try identity(3)
        let result = evaluate(architecture, parameters, inputs: [1, 1, 0, 1, 1, 0], labels: [0, 1])
        XCTAssertEqual(result.correct, 1)
    }

    /// A 3→3 layer with W = I and b = 0, so the outputs are the inputs.
    private func identity(_ n: Int) throws -> (Architecture, ParameterBuffer) {
        let architecture = try Architecture(layerSizes: [n, n], activation: .relu)
        let parameters = ParameterBuffer(architecture: architecture)
        setLayer(parameters, 0, weight: (0..<n * n).map { $0 % (n + 1) == 0 ? 1 : 0 },
                 bias: [Float](repeating: 0, count: n))
        return (architecture, parameters)
    }
}
