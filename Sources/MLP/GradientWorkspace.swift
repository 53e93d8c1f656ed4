/// Everything one forward and backward pass needs, allocated once, so that
/// computing a gradient allocates nothing. Not thread-safe: one per thread.
///
/// Shapes: `batch` rows (at most `maxBatch`), layer i maps `inputs` =
/// layerSizes[i] to `outputs` = layerSizes[i + 1]; inputs arrive as
/// [batch, inputSize] row-major Floats, labels as class indices.
public final class GradientWorkspace {
    public let architecture: Architecture
    public let maxBatch: Int
    private let layers: [DenseLayer]
    /// Layer i's output after its activation, [maxBatch, outputs]; the last
    /// layer's is the linear output that feeds the loss.
    private let activations: [UnsafeMutableBufferPointer<Float>]
    /// dloss/d(layer i's output before its activation), [maxBatch, outputs].
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
        let p = parameters.baseAddress!, x = inputs.baseAddress!, g = gradient.baseAddress!
        forward(p, x, batch: batch)
        let last = layers.count - 1
        let result = architecture.loss.score(
            activations[last].baseAddress!, labels: labels.baseAddress!, batch: batch,
            outputs: layers[last].outputs, delta: deltas[last].baseAddress!)
        for i in stride(from: last, through: 0, by: -1) {
            let input = i == 0 ? x : UnsafePointer(activations[i - 1].baseAddress!)
            let dx = i == 0 ? nil : deltas[i - 1].baseAddress!
            layers[i].backward(parameters: p, x: input, delta: deltas[i].baseAddress!,
                               gradient: g, dx: dx, batch: batch)
            if let dx {
                architecture.activation.multiplyDerivative(
                    dx, activated: activations[i - 1].baseAddress!, count: batch * layers[i].inputs)
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
        var x = inputs
        for (i, layer) in layers.enumerated() {
            let y = activations[i].baseAddress!
            layer.forward(parameters: parameters, x: x, y: y, batch: batch)
            if i < layers.count - 1 { architecture.activation.apply(y, count: batch * layer.outputs) }
            x = UnsafePointer(y)
        }
    }

    private func check(parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
                       labels: UnsafeBufferPointer<UInt8>? = nil, batch: Int) {
        precondition((1...maxBatch).contains(batch), "batch \(batch) outside 1...\(maxBatch)")
        precondition(parameters.count == architecture.parameterCount, "parameter buffer has the wrong size")
        precondition(inputs.count >= batch * architecture.inputSize, "fewer inputs than batch × inputSize")
        precondition(labels.map { $0.count >= batch } ?? true, "fewer labels than batch")
    }
}
