import MLP
import XCTest

/// Clipping against the rules computed in Double by hand (the norm itself:
/// CollectiveTests' SquaredNormTests).
final class GradientClippingTests: XCTestCase {
    func testNormRuleScalesALongGradientToTheLimitAndLeavesAShortOne() {
        let clipping = GradientClipping(maxNorm: 1)
        // g = (3, 4): ‖g‖ = 5, scaled by 1 / (5 + 1e-6) to (0.6, 0.8) up to 1e-7.
        var g: [Float] = [3, 4]
        let scale = clipping.scale(norm: 5)
        XCTAssertEqual(Double(scale), 1 / (5 + 1e-6), accuracy: 1e-7, "rounded to Float once")
        g.withUnsafeMutableBufferPointer { clipping.apply($0, scale: scale) }
        XCTAssertEqual(g[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(g[1], 0.8, accuracy: 1e-6)
        XCTAssertEqual(clipping.scale(norm: 0.5), 1)
        XCTAssertEqual(GradientClipping().scale(norm: 1e9), 1, "no rule, no scaling")
    }

    func testValueRuleClampsEachValue() {
        var g: [Float] = [-3, -0.25, 0, 0.5, 7]
        g.withUnsafeMutableBufferPointer { GradientClipping(maxValue: 0.5).apply($0, scale: 1) }
        XCTAssertEqual(g, [-0.5, -0.25, 0, 0.5, 0.5])
    }

    func testBothRulesScaleFirstThenClamp() {
        // (6, 8): norm 10, scaled to about (1.2, 1.6) by --clip-norm 2, then clamped to 1.5.
        var g: [Float] = [6, 8]
        let clipping = GradientClipping(maxNorm: 2, maxValue: 1.5)
        g.withUnsafeMutableBufferPointer { clipping.apply($0, scale: clipping.scale(norm: 10)) }
        XCTAssertEqual(g[0], 1.2, accuracy: 1e-6)
        XCTAssertEqual(g[1], 1.5)
    }
}
