/// Clipping of the averaged (exactly reduced) gradient before the optimiser
/// sees it, as PyTorch's clip_grad_norm_ and clip_grad_value_ do:
///
///     by norm:   g ← g · min(1, maxNorm / (‖g‖₂ + 1e-6))
///     by value:  g ← clamp(g, −maxValue, maxValue)      (after the norm's scaling)
///
/// The norm is summed in Double in index order over the whole gradient, so
/// every process that has the whole reduced gradient gets the same bits.
public struct GradientClipping: Equatable, Sendable {
    /// nil: no clipping by norm.
    public var maxNorm: Float?
    /// nil: no clipping by value.
    public var maxValue: Float?

    public init(maxNorm: Float? = nil, maxValue: Float? = nil) {
        self.maxNorm = maxNorm
        self.maxValue = maxValue
    }

    public var isOff: Bool { maxNorm == nil && maxValue == nil }

    /// ‖g‖₂ in Double, summed in index order (four interleaved partial sums, combined in a fixed order).
    public static func norm(_ gradient: UnsafeBufferPointer<Float>) -> Double {
        var partial: (Double, Double, Double, Double) = (0, 0, 0, 0)
        let g = gradient.baseAddress!, whole = gradient.count / 4 * 4
        for i in stride(from: 0, to: whole, by: 4) {
            let a = Double(g[i]), b = Double(g[i + 1]), c = Double(g[i + 2]), d = Double(g[i + 3])
            partial.0 += a * a; partial.1 += b * b; partial.2 += c * c; partial.3 += d * d
        }
        for i in whole..<gradient.count { partial.0 += Double(g[i]) * Double(g[i]) }
        return ((partial.0 + partial.1) + (partial.2 + partial.3)).squareRoot()
    }

    /// The factor the norm rule multiplies by for a gradient of norm `norm` (1 when off or within).
    public func scale(norm: Double) -> Float {
        guard let maxNorm else { return 1 }
        return Float(min(1, Double(maxNorm) / (norm + 1e-6)))
    }

    /// Multiplies by `scale` (skipped at 1) and clamps by value, in place.
    public func apply(_ gradient: UnsafeMutableBufferPointer<Float>, scale: Float) {
        let g = gradient.baseAddress!
        if scale != 1 {
            for i in 0..<gradient.count { g[i] *= scale }
        }
        if let limit = maxValue {
            for i in 0..<gradient.count { g[i] = min(max(g[i], -limit), limit) }
        }
    }
}
