/// One fully connected layer applied to a whole batch at once, W stored
/// [outputs, inputs] row-major, each sample one row of X, Y and δ:
///
///     forward    Y[batch, outputs]  = X[batch, inputs] · Wᵀ + b
///     backward   dW[outputs, inputs] = δᵀ · X
///                db[outputs]         = Σ over the batch of δ's rows
///                dX[batch, inputs]   = δ · W
///
/// dW and db are sums over the batch, not means. X, Y, δ and dX may each be
/// stored transposed (see `MatrixView`); the maths does not change.
struct DenseLayer {
    let inputs: Int
    let outputs: Int
    /// Offsets of W and b in the flat parameter (and gradient) buffer.
    let weight: Int
    let bias: Int

    init(_ architecture: Architecture, layer: Int) {
        inputs = architecture.layerSizes[layer]
        outputs = architecture.layerSizes[layer + 1]
        let offsets = architecture.offsets(layer: layer)
        weight = offsets.weight.lowerBound
        bias = offsets.bias.lowerBound
    }

    private func matrix(_ base: UnsafePointer<Float>) -> MatrixView {
        MatrixView(base: UnsafeMutablePointer(mutating: base), rows: outputs, columns: inputs, storedTransposed: false)
    }

    func forward(parameters: UnsafePointer<Float>, x: MatrixView, y: MatrixView) {
        // Start every row at b so that sgemm adds X·Wᵀ onto it (beta = 1).
        y.fillRows(with: parameters + bias)
        MatrixView.multiply(x, matrix(parameters + weight).t, into: y, accumulate: true)
    }

    /// `dx` is nil for the first layer, whose input gradient nobody needs.
    func backward(parameters: UnsafePointer<Float>, x: MatrixView, delta: MatrixView,
                  gradient: UnsafeMutablePointer<Float>, dx: MatrixView?) {
        MatrixView.multiply(delta.t, x, into: matrix(gradient + weight))
        delta.sumRows(into: gradient + bias)
        if let dx { MatrixView.multiply(delta, matrix(parameters + weight), into: dx) }
    }
}
