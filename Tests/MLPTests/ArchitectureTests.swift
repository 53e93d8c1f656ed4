import MLP
import XCTest

final class ArchitectureTests: XCTestCase {
    func testParsesSizesAndCountsParameters() throws {
        let architecture = try Architecture(parsing: "784, 128,10", activation: .relu)
        XCTAssertEqual(architecture.layerSizes, [784, 128, 10])
        XCTAssertEqual(architecture.inputSize, 784)
        XCTAssertEqual(architecture.outputSize, 10)
        XCTAssertEqual(architecture.loss, .crossEntropy)
        XCTAssertEqual(architecture.parameterCount, 784 * 128 + 128 + 128 * 10 + 10)
    }

    func testLayoutIsWeightThenBiasPerLayer() throws {
        let architecture = try Architecture(layerSizes: [784, 128, 10], activation: .relu)
        XCTAssertEqual(architecture.offsets(layer: 0).weight, 0..<100_352)
        XCTAssertEqual(architecture.offsets(layer: 0).bias, 100_352..<100_480)
        XCTAssertEqual(architecture.offsets(layer: 1).weight, 100_480..<101_760)
        XCTAssertEqual(architecture.offsets(layer: 1).bias, 101_760..<101_770)

        let parameters = ParameterBuffer(architecture: architecture)
        XCTAssertEqual(parameters.count, 101_770)
        parameters.bias(layer: 1)[9] = 7
        XCTAssertEqual(parameters.values[101_769], 7, "views alias the buffer")
        XCTAssertEqual(parameters.weight(layer: 1).count, 1280)
    }

    func testRejectsBadLayerLists() {
        for text in ["784", "", "784,0,10", "784,-3,10", "784,x,10", "784,,10"] {
            XCTAssertThrowsError(try Architecture(parsing: text, activation: .relu), text) { error in
                let line = String(describing: error)
                XCTAssertFalse(line.isEmpty || line.contains("\n"), line)
            }
        }
        XCTAssertThrowsError(try Architecture(layerSizes: [5], activation: .tanh)) { error in
            XCTAssertEqual(error as? ArchitectureError, .tooFewLayers([5]))
        }
    }

    func testNamesOfActivationsAndLosses() throws {
        XCTAssertEqual(Activation.allCases.map(\.rawValue), ["relu", "leaky-relu", "sigmoid", "tanh"])
        XCTAssertEqual(try Activation(name: "leaky-relu"), .leakyRelu)
        XCTAssertEqual(try Loss(name: "mse"), .meanSquaredError)
        XCTAssertThrowsError(try Activation(name: "swish")) { error in
            XCTAssertEqual(String(describing: error),
                           "unknown activation \"swish\" (expected one of: relu, leaky-relu, sigmoid, tanh)")
        }
        XCTAssertThrowsError(try Loss(name: "hinge"))
    }
}
