/// One fully connected layer applied to a whole batch at once, every matrix
/// row-major, W stored [outputs, inputs]:
///
///     forward    Y[batch, outputs]  = X[batch, inputs] · Wᵀ + b
///     backward   dW[outputs, inputs] = δᵀ · X
///                db[outputs]         = Σ over the batch of δ's rows
///                dX[batch, inputs]   = δ · W
///
/// dW and db are sums over the batch, not means.
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

    func forward(parameters: UnsafePointer<Float>, x: UnsafePointer<Float>,
                 y: UnsafeMutablePointer<Float>, batch: Int) {
        // Start every row at b so that sgemm adds X·Wᵀ onto it (beta = 1).
        for row in 0..<batch { (y + row * outputs).update(from: parameters + bias, count: outputs) }
        BLAS.sgemm(transposeA: false, transposeB: true, m: batch, n: outputs, k: inputs,
                   alpha: 1, a: x, lda: inputs, b: parameters + weight, ldb: inputs,
                   beta: 1, c: y, ldc: outputs)
    }

    /// `dx` is nil for the first layer, whose input gradient nobody needs.
    func backward(parameters: UnsafePointer<Float>, x: UnsafePointer<Float>, delta: UnsafePointer<Float>,
                  gradient: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?, batch: Int) {
        BLAS.sgemm(transposeA: true, transposeB: false, m: outputs, n: inputs, k: batch,
                   alpha: 1, a: delta, lda: outputs, b: x, ldb: inputs,
                   beta: 0, c: gradient + weight, ldc: inputs)
        let db = gradient + bias
        db.update(from: delta, count: outputs)
        for row in 1..<batch {
            let deltaRow = delta + row * outputs
            for j in 0..<outputs { db[j] += deltaRow[j] }
        }
        if let dx {
            BLAS.sgemm(transposeA: false, transposeB: false, m: batch, n: inputs, k: outputs,
                       alpha: 1, a: delta, lda: outputs, b: parameters + weight, ldb: inputs,
                       beta: 0, c: dx, ldc: inputs)
        }
    }
}
