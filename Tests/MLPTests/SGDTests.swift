import MLP
import XCTest

final class SGDTests: XCTestCase {
    func testClassicalMomentumByHand() {
        // μ = 0.9, lr = 0.1, g = 0.5 twice from w = 1:
        // v = 0.5, w = 0.95; then v = 0.9·0.5 + 0.5 = 0.95, w = 0.95 − 0.095 = 0.855.
        let w = run(OptimiserSettings(learningRate: 0.1, momentum: 0.9), weight: 1, gradients: [0.5, 0.5])
        XCTAssertEqual(w, [0.95, 0.855].map(Float.init), accuracy: 1e-6)
    }

    func testNesterovByHand() {
        // v = 0.5, w = 1 − 0.1·(0.5 + 0.9·0.5) = 0.905;
        // v = 0.95, w = 0.905 − 0.1·(0.5 + 0.9·0.95) = 0.7695.
        let w = run(OptimiserSettings(learningRate: 0.1, momentum: 0.9, nesterov: true), weight: 1, gradients: [0.5, 0.5])
        XCTAssertEqual(w, [0.905, 0.7695].map(Float.init), accuracy: 1e-6)
    }

    func testWeightDecayPullsTowardsZero() {
        // g = 0, λ = 0.01, w = 2: v = 0.02, w = 2 − 0.1·0.02 = 1.998.
        let w = run(OptimiserSettings(learningRate: 0.1, weightDecay: 0.01), weight: 2, gradients: [0])
        XCTAssertEqual(w, [1.998], accuracy: 1e-6)
    }

    func testSlicedUpdateIsBitIdenticalToWholeUpdate() {
        for nesterov in [false, true] {
            let settings = OptimiserSettings(learningRate: 0.05, momentum: 0.9, nesterov: nesterov, weightDecay: 1e-4)
            let count = 1001
            var generator = SeededGenerator(seed: 9)
            let start = (0..<count).map { _ in generator.nextSymmetric(bound: 1) }
            let gradients = (0..<3).map { _ in (0..<count).map { _ in generator.nextSymmetric(bound: 1) } }
            let slices = [0..<300, 300..<301, 301..<777, 777..<1001]

            let whole = SGD(parameterCount: count, settings: settings), sliced = SGD(parameterCount: count, settings: settings)
            var wholeWeights = start, slicedWeights = start
            for g in gradients {
                wholeWeights.withUnsafeMutableBufferPointer { w in
                    g.withUnsafeBufferPointer { whole.step(parameters: w, gradient: $0, learningRate: 0.05) }
                }
                for range in slices.reversed() {
                    slicedWeights.withUnsafeMutableBufferPointer { w in
                        g.withUnsafeBufferPointer { sliced.step(range: range, parameters: w, gradient: $0, learningRate: 0.05) }
                    }
                }
            }
            XCTAssertEqual(wholeWeights.map(\.bitPattern), slicedWeights.map(\.bitPattern))
            XCTAssertEqual(whole.velocity.values.map(\.bitPattern), sliced.velocity.values.map(\.bitPattern))
            XCTAssertNotEqual(wholeWeights, start)
        }
    }

    /// The weight after each step of a one-parameter model.
    private func run(_ settings: OptimiserSettings, weight: Float, gradients: [Float]) -> [Float] {
        let sgd = SGD(parameterCount: 1, settings: settings)
        var w = [weight]
        return gradients.map { g in
            w.withUnsafeMutableBufferPointer { w in
                [g].withUnsafeBufferPointer { sgd.step(parameters: w, gradient: $0, learningRate: settings.learningRate) }
            }
            return w[0]
        }
    }
}

private func XCTAssertEqual(_ actual: [Float], _ expected: [Float], accuracy: Float,
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, file: file, line: line)
    for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: accuracy, file: file, line: line) }
}

final class SGDVelocityFloorTests: XCTestCase {
    func testVelocityBelowTheFloorIsStoredAsZero() {
        // With g = 0 the velocity decays by μ each step: 2^-90 · 2^-10 < 2^-96
        // after one step, so it becomes exactly zero instead of subnormal.
        let sgd = SGD(parameterCount: 2, settings: OptimiserSettings(learningRate: 0.1, momentum: 0x1p-10))
        var w: [Float] = [1, 1]
        let first: [Float] = [0x1p-90, 1]
        w.withUnsafeMutableBufferPointer { w in
            first.withUnsafeBufferPointer { sgd.step(parameters: w, gradient: $0, learningRate: 0.1) }
            [Float](repeating: 0, count: 2).withUnsafeBufferPointer { sgd.step(parameters: w, gradient: $0, learningRate: 0.1) }
        }
        XCTAssertEqual(sgd.velocity.values[0], 0)
        XCTAssertEqual(sgd.velocity.values[1], 0x1p-10)
        XCTAssertEqual(w[0], 1)
    }
}
