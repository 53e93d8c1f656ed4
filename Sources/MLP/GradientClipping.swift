/// Clipping of the averaged (exactly reduced) gradient before the optimiser
/// sees it, as PyTorch's clip_grad_norm_ and clip_grad_value_ do:
///
///     by norm:   g ← g · min(1, maxNorm / (‖g‖₂ + 1e-6))
///     by value:  g ← clamp(g, −maxValue, maxValue)      (after the norm's scaling)
///
/// The norm is computed from the exact fixed-point sums (Collective's
/// SquaredNorm), so `train` and every collective, whoever holds which part
/// of the gradient, get the same bits.
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
