/// Everything one forward and backward pass needs, allocated once, so that
/// computing a gradient allocates nothing. Not thread-safe: one per thread.
///
/// Shapes: `batch` rows (at most `maxBatch`), layer i maps `inputs` =
/// layerSizes[i] to `outputs` = layerSizes[i + 1]; inputs arrive as
/// [batch, inputSize] row-major Floats, labels as class indices.
///
/// The hidden layers' activations and deltas are stored transposed,
/// [outputs, batch]: OpenBLAS then packs the large weight matrices in the
/// orientation it copies fastest (784-512-256-10 at batch 128 on SkylakeX
/// kernels, the step's sgemms take 2.08 ms instead of 2.16 ms). The last
/// layer's stay [batch, outputs], so the loss reads each sample's outputs
/// contiguously and `outputs(parameters:inputs:batch:into:)` copies them as they are.
public final class GradientWorkspace {
    public let architecture: Architecture
    public let maxBatch: Int
    private let layers: [DenseLayer]
    /// Layer i's output after its activation, room for [maxBatch, outputs];
    /// the last layer's is the linear output that feeds the loss.
    private let activations: [UnsafeMutableBufferPointer<Float>]
    /// dloss/d(layer i's output before its activation), room for [maxBatch, outputs].
    private let deltas: [UnsafeMutableBufferPointer<Float>]

    public init(architecture: Architecture, maxBatch: Int) {
        precondition(maxBatch >= 1, "maxBatch must be at least 1")
        BLAS.useOneThread()
        self.architecture = architecture
        self.maxBatch = maxBatch
        layers = (0..<architecture.layerCount).map { DenseLayer(architecture, layer: $0) }
        func scratch(_ layer: DenseLayer) -> UnsafeMutableBufferPointer<Float> {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: maxBatch * layer.outputs)
            buffer.initialize(repeating: 0)
            return buffer
        }
        activations = layers.map(scratch)
        deltas = layers.map(scratch)
    }

    deinit {
        for buffer in activations + deltas { buffer.deallocate() }
    }

    /// Writes into `gradient` the SUM over the batch of dloss/dparameters
    /// (overwriting it), and returns the batch's summed loss and correct count.
    public func computeGradient(parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
                                labels: UnsafeBufferPointer<UInt8>, batch: Int,
                                gradient: UnsafeMutableBufferPointer<Float>) -> BatchResult {
        check(parameters: parameters, inputs: inputs, labels: labels, batch: batch)
        precondition(gradient.count == architecture.parameterCount, "gradient buffer has the wrong size")
        let p = parameters.baseAddress!, g = gradient.baseAddress!
        forward(p, inputs.baseAddress!, batch: batch)
        let last = layers.count - 1
        let result = architecture.loss.score(
            activations[last].baseAddress!, labels: labels.baseAddress!, batch: batch,
            outputs: layers[last].outputs, delta: deltas[last].baseAddress!)
        for i in stride(from: last, through: 0, by: -1) {
            let x = i == 0 ? input(inputs.baseAddress!, batch: batch) : view(activations, i - 1, batch: batch)
            let dx = i == 0 ? nil : view(deltas, i - 1, batch: batch)
            layers[i].backward(parameters: p, x: x, delta: view(deltas, i, batch: batch), gradient: g, dx: dx)
            if let dx {
                architecture.activation.multiplyDerivative(
                    dx.base, activated: activations[i - 1].baseAddress!, count: batch * layers[i].inputs)
            }
        }
        return result
    }

    /// The summed loss and correct count, forward pass only.
    public func evaluate(parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
                         labels: UnsafeBufferPointer<UInt8>, batch: Int) -> BatchResult {
        check(parameters: parameters, inputs: inputs, labels: labels, batch: batch)
        forward(parameters.baseAddress!, inputs.baseAddress!, batch: batch)
        let last = layers.count - 1
        return architecture.loss.score(
            activations[last].baseAddress!, labels: labels.baseAddress!, batch: batch,
            outputs: layers[last].outputs, delta: nil)
    }

    /// The network's linear outputs (before softmax) for `batch` inputs,
    /// written to `outputs` as [batch, outputSize].
    public func outputs(parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
                        batch: Int, into outputs: UnsafeMutableBufferPointer<Float>) {
        check(parameters: parameters, inputs: inputs, batch: batch)
        precondition(outputs.count >= batch * architecture.outputSize, "output buffer too small")
        forward(parameters.baseAddress!, inputs.baseAddress!, batch: batch)
        outputs.baseAddress!.update(
            from: activations[layers.count - 1].baseAddress!, count: batch * architecture.outputSize)
    }

    private func forward(_ parameters: UnsafePointer<Float>, _ inputs: UnsafePointer<Float>, batch: Int) {
        var x = input(inputs, batch: batch)
        for (i, layer) in layers.enumerated() {
            let y = view(activations, i, batch: batch)
            layer.forward(parameters: parameters, x: x, y: y)
            if i < layers.count - 1 { architecture.activation.apply(y.base, count: batch * layer.outputs) }
            x = y
        }
    }

    /// The caller's inputs, [batch, inputSize]; only ever read.
    private func input(_ inputs: UnsafePointer<Float>, batch: Int) -> MatrixView {
        MatrixView(base: UnsafeMutablePointer(mutating: inputs), rows: batch, columns: architecture.inputSize,
                   storedTransposed: false)
    }

    /// Layer i's [batch, outputs] slice of `buffers`, stored as the type's comment says.
    private func view(_ buffers: [UnsafeMutableBufferPointer<Float>], _ i: Int, batch: Int) -> MatrixView {
        MatrixView(base: buffers[i].baseAddress!, rows: batch, columns: layers[i].outputs,
                   storedTransposed: i < layers.count - 1)
    }

    private func check(parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
                       labels: UnsafeBufferPointer<UInt8>? = nil, batch: Int) {
        precondition((1...maxBatch).contains(batch), "batch \(batch) outside 1...\(maxBatch)")
        precondition(parameters.count == architecture.parameterCount, "parameter buffer has the wrong size")
        precondition(inputs.count >= batch * architecture.inputSize, "fewer inputs than batch × inputSize")
        precondition(labels.map { $0.count >= batch } ?? true, "fewer labels than batch")
    }
}
