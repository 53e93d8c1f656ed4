import Foundation
import MLP
import XCTest

/// Adam and AdamW against the textbook formulas evaluated in Double
/// (PyTorch's definitions), and against hand-worked first steps.
final class AdamTests: XCTestCase {
    func testFirstStepMovesByTheLearningRateTimesTheSign() {
        // t = 1: m̂ = g and v̂ = g², so w − lr·g/(|g| + ε) = 1 − 0.1·0.5/(0.5 + 1e-8) ≈ 0.9.
        let w = run(OptimiserSettings(kind: .adam, learningRate: 0.1), weights: [1, 1], gradients: [[0.5, -2]])
        XCTAssertEqual(w[0][0], 0.9, accuracy: 1e-6)
        XCTAssertEqual(w[0][1], 1.1, accuracy: 1e-6)
    }

    func testAdamMatchesTheFormulaInDouble() {
        let settings = OptimiserSettings(kind: .adam, learningRate: 0.01, weightDecay: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6)
        check(settings)
    }

    func testAdamWMatchesTheFormulaInDouble() {
        let settings = OptimiserSettings(kind: .adamw, learningRate: 0.01, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
        check(settings)
    }

    func testAdamWDecayIsDecoupledFromTheGradient() {
        // g = 0 throughout: Adam's L2 term feeds the moments and moves w by
        // about lr per step; AdamW only shrinks w by (1 − lr·λ) per step.
        let adamw = run(OptimiserSettings(kind: .adamw, learningRate: 0.1, weightDecay: 0.5), weights: [2], gradients: [[0], [0]])
        XCTAssertEqual(adamw[1][0], Float(2 * 0.95 * 0.95), accuracy: 1e-6)
        let adam = run(OptimiserSettings(kind: .adam, learningRate: 0.1, weightDecay: 0.5), weights: [2], gradients: [[0]])
        XCTAssertEqual(adam[0][0], 1.9, accuracy: 1e-5)
    }

    func testSlicedUpdateIsBitIdenticalToWholeUpdate() {
        for kind in [OptimiserKind.adam, .adamw] {
            let settings = OptimiserSettings(kind: kind, learningRate: 0.003, weightDecay: 1e-2)
            let count = 1001
            var generator = SeededGenerator(seed: 4)
            let start = (0..<count).map { _ in generator.nextSymmetric(bound: 1) }
            let gradients = (0..<4).map { _ in (0..<count).map { _ in generator.nextSymmetric(bound: 1) } }
            let whole = Adam(parameterCount: count, settings: settings)
            let slices = [0..<300, 300..<301, 301..<777, 777..<1001]
            // One optimiser per slice, as ring members own them.
            let members = slices.map { Adam(parameterCount: $0.count, settings: settings) }
            var wholeWeights = start, slicedWeights = start
            for (step, g) in gradients.enumerated() {
                wholeWeights.withUnsafeMutableBufferPointer { w in
                    g.withUnsafeBufferPointer { whole.step(parameters: w, gradient: $0, learningRate: 0.003, step: step) }
                }
                for (member, range) in zip(members, slices) {
                    slicedWeights.withUnsafeMutableBufferPointer { w in
                        g.withUnsafeBufferPointer {
                            member.step(parameters: UnsafeMutableBufferPointer(rebasing: w[range]),
                                        gradient: UnsafeBufferPointer(rebasing: $0[range]), learningRate: 0.003, step: step)
                        }
                    }
                }
            }
            XCTAssertEqual(wholeWeights.map(\.bitPattern), slicedWeights.map(\.bitPattern))
            let wholeM = Array(whole.firstMoment), wholeV = Array(whole.secondMoment)
            XCTAssertEqual(wholeM.map(\.bitPattern), members.flatMap { Array($0.firstMoment) }.map(\.bitPattern))
            XCTAssertEqual(wholeV.map(\.bitPattern), members.flatMap { Array($0.secondMoment) }.map(\.bitPattern))
            XCTAssertNotEqual(wholeWeights, start)
        }
    }

    func testMomentsBelowTheFloorAreStoredAsZero() {
        let adam = Adam(parameterCount: 1, settings: OptimiserSettings(kind: .adam, learningRate: 0.1, beta1: 0x1p-10, beta2: 0x1p-10))
        var w: [Float] = [1]
        w.withUnsafeMutableBufferPointer { w in
            [Float(0x1p-88)].withUnsafeBufferPointer { adam.step(parameters: w, gradient: $0, learningRate: 0.1, step: 0) }
            XCTAssertEqual(adam.secondMoment[0], 0, "(1 − β2)·g² ≈ 2^-176 is below the floor")
            [Float(0)].withUnsafeBufferPointer { adam.step(parameters: w, gradient: $0, learningRate: 0.1, step: 1) }
        }
        XCTAssertEqual(adam.firstMoment[0], 0, "β1·m ≈ 2^-98 is below the floor")
    }

    /// Six steps of random gradients on three weights, Float against Double.
    private func check(_ settings: OptimiserSettings, file: StaticString = #filePath, line: UInt = #line) {
        var generator = SeededGenerator(seed: 11)
        let start = (0..<3).map { _ in generator.nextSymmetric(bound: 1) }
        let gradients = (0..<6).map { _ in (0..<3).map { _ in generator.nextSymmetric(bound: 1) } }
        let actual = run(settings, weights: start, gradients: gradients)
        var w = start.map(Double.init), m = [Double](repeating: 0, count: 3), v = m
        let lr = Double(settings.learningRate), lambda = Double(settings.weightDecay)
        let b1 = Double(settings.beta1), b2 = Double(settings.beta2), eps = Double(settings.epsilon)
        for (step, g) in gradients.enumerated() {
            let t = Double(step + 1)
            for i in 0..<3 {
                var d = Double(g[i])
                if settings.kind == .adamw { w[i] *= 1 - lr * lambda } else { d += lambda * w[i] }
                m[i] = b1 * m[i] + (1 - b1) * d
                v[i] = b2 * v[i] + (1 - b2) * d * d
                let mHat = m[i] / (1 - pow(b1, t)), vHat = v[i] / (1 - pow(b2, t))
                w[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
            for i in 0..<3 {
                XCTAssertEqual(Double(actual[step][i]), w[i], accuracy: 2e-6, "step \(step) weight \(i)", file: file, line: line)
            }
        }
    }

    /// The weights after each step.
    private func run(_ settings: OptimiserSettings, weights: [Float], gradients: [[Float]]) -> [[Float]] {
        let adam = makeOptimiser(parameterCount: weights.count, settings: settings)
        var w = weights
        return gradients.enumerated().map { step, g in
            w.withUnsafeMutableBufferPointer { w in
                g.withUnsafeBufferPointer { adam.step(parameters: w, gradient: $0, learningRate: settings.learningRate, step: step) }
            }
            return w
        }
    }
}
