import MLP
import XCTest

final class InitialisationTests: XCTestCase {
    func testSameSeedSameBytesDifferentSeedDifferent() throws {
        let architecture = try Architecture(layerSizes: [20, 10, 3], activation: .relu)
        let a = ParameterBuffer.initialised(architecture, seed: 7)
        let b = ParameterBuffer.initialised(architecture, seed: 7)
        let c = ParameterBuffer.initialised(architecture, seed: 8)
        XCTAssertEqual(a.values.map(\.bitPattern), b.values.map(\.bitPattern))
        XCTAssertNotEqual(a.values.map(\.bitPattern), c.values.map(\.bitPattern))
    }

    func testFirstWeightsArePinned() throws {
        // Python: u = (first xoshiro256** output of seed 0 >> 40) * 2**-24,
        // float32((2u - 1) * bound), with bound sqrt(6/784) for He and
        // sqrt(6/(784+128)) for Glorot.
        let he = ParameterBuffer.initialised(try Architecture(layerSizes: [784, 128, 10], activation: .relu), seed: 0)
        XCTAssertEqual(Array(he.values.prefix(2)), [0.017717331647872925, 0.0433514304459095])
        let glorot = ParameterBuffer.initialised(try Architecture(layerSizes: [784, 128, 10], activation: .tanh), seed: 0)
        XCTAssertEqual(glorot.values[0], 0.016427025198936462)
    }

    func testBoundsRespectedAndBiasesZero() throws {
        for activation in Activation.allCases {
            let architecture = try Architecture(layerSizes: [300, 100, 10], activation: activation)
            let parameters = ParameterBuffer.initialised(architecture, seed: 1)
            for layer in 0..<architecture.layerCount {
                let fanIn = Double(architecture.layerSizes[layer]), fanOut = Double(architecture.layerSizes[layer + 1])
                let bound = activation == .relu || activation == .leakyRelu
                    ? (6 / fanIn).squareRoot() : (6 / (fanIn + fanOut)).squareRoot()
                let weight = parameters.weight(layer: layer)
                let largest = Double(weight.map(abs).max()!)
                // |2u − 1| < 1 and rounding is monotonic, so no draw exceeds Float(bound).
                XCTAssertLessThanOrEqual(largest, Double(Float(bound)))
                XCTAssertGreaterThan(largest, 0.9 * bound, "draws should fill the range")
                let mean = weight.reduce(0.0) { $0 + Double($1) } / Double(weight.count)
                XCTAssertLessThan(abs(mean), 0.05 * bound)
                XCTAssertTrue(parameters.bias(layer: layer).allSatisfy { $0 == 0 })
            }
        }
    }
}
