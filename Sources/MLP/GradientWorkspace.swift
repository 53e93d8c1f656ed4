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
///
/// Dropout (training only): hidden layer i's activations are multiplied by
/// a mask of 0 or 1/(1 − p) (inverted dropout, so evaluation needs no
/// scaling), kept apart from the activations themselves because the
/// activation's derivative is taken from the unmasked values.
public final class GradientWorkspace {
    public let architecture: Architecture
    public let maxBatch: Int
    public let options: GradientOptions
    private let layers: [DenseLayer]
    /// Layer i's output after its activation, room for [maxBatch, outputs];
    /// the last layer's is the linear output that feeds the loss.
    private let activations: [UnsafeMutableBufferPointer<Float>]
    /// dloss/d(layer i's output before its activation), room for [maxBatch, outputs].
    private let deltas: [UnsafeMutableBufferPointer<Float>]
    /// Per hidden layer with dropout, its mask and its masked activations,
    /// [outputs, batch] like the activations; nil for layers without.
    private let masks: [UnsafeMutableBufferPointer<Float>?]
    private let dropped: [UnsafeMutableBufferPointer<Float>?]

    public init(architecture: Architecture, maxBatch: Int, options: GradientOptions = GradientOptions()) {
        precondition(maxBatch >= 1, "maxBatch must be at least 1")
        precondition(options.dropout.count <= architecture.layerCount - 1, "more dropout rates than hidden layers")
        BLAS.useOneThread()
        self.architecture = architecture
        self.maxBatch = maxBatch
        self.options = options
        let layers = (0..<architecture.layerCount).map { DenseLayer(architecture, layer: $0) }
        self.layers = layers
        func scratch(_ layer: DenseLayer) -> UnsafeMutableBufferPointer<Float> {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: maxBatch * layer.outputs)
            buffer.initialize(repeating: 0)
            return buffer
        }
        activations = layers.map(scratch)
        deltas = layers.map(scratch)
        masks = layers.indices.map { options.dropout(hidden: $0) > 0 ? scratch(layers[$0]) : nil }
        dropped = layers.indices.map { options.dropout(hidden: $0) > 0 ? scratch(layers[$0]) : nil }
    }

    deinit {
        for buffer in activations + deltas + masks.compactMap({ $0 }) + dropped.compactMap({ $0 }) { buffer.deallocate() }
    }

    /// Writes into `gradient` the SUM over the batch of dloss/dparameters
    /// (overwriting it), and returns the batch's summed loss and correct count.
    /// `step` and `firstSample` (the first row's position in the step's
    /// global batch) key the dropout masks (see `SampleNoise`).
    public func computeGradient(parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
                                labels: UnsafeBufferPointer<UInt8>, batch: Int,
                                gradient: UnsafeMutableBufferPointer<Float>,
                                step: UInt64 = 0, firstSample: UInt64 = 0) -> BatchResult {
        check(parameters: parameters, inputs: inputs, labels: labels, batch: batch)
        precondition(gradient.count == architecture.parameterCount, "gradient buffer has the wrong size")
        let p = parameters.baseAddress!, g = gradient.baseAddress!
        forward(p, inputs.baseAddress!, batch: batch, dropout: (step, firstSample))
        let last = layers.count - 1
        let result = architecture.loss.score(
            activations[last].baseAddress!, labels: labels.baseAddress!, batch: batch,
            outputs: layers[last].outputs, delta: deltas[last].baseAddress!, smoothing: options.labelSmoothing)
        for i in stride(from: last, through: 0, by: -1) {
            let x = i == 0 ? input(inputs.baseAddress!, batch: batch) : passedOn(i - 1, batch: batch)
            let dx = i == 0 ? nil : view(deltas, i - 1, batch: batch)
            layers[i].backward(parameters: p, x: x, delta: view(deltas, i, batch: batch), gradient: g, dx: dx)
            if let dx {
                if let mask = masks[i - 1] { multiply(dx.base, by: mask.baseAddress!, count: batch * layers[i].inputs) }
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

    /// With `dropout` (training), hidden layers with a rate pass on their masked activations.
    private func forward(_ parameters: UnsafePointer<Float>, _ inputs: UnsafePointer<Float>, batch: Int,
                         dropout: (step: UInt64, firstSample: UInt64)? = nil) {
        var x = input(inputs, batch: batch)
        for (i, layer) in layers.enumerated() {
            let y = view(activations, i, batch: batch)
            layer.forward(parameters: parameters, x: x, y: y)
            x = y
            guard i < layers.count - 1 else { continue }
            architecture.activation.apply(y.base, count: batch * layer.outputs)
            if let dropout, let mask = masks[i], let out = dropped[i] {
                fillMask(mask.baseAddress!, layer: i, batch: batch, step: dropout.step, firstSample: dropout.firstSample)
                out.baseAddress!.update(from: y.base, count: batch * layer.outputs)
                multiply(out.baseAddress!, by: mask.baseAddress!, count: batch * layer.outputs)
                x = passedOn(i, batch: batch)
            }
        }
    }

    /// Hidden layer `layer`'s mask, [outputs, batch], as `dropoutMask` says.
    private func fillMask(_ mask: UnsafeMutablePointer<Float>, layer: Int, batch: Int, step: UInt64, firstSample: UInt64) {
        let rate = options.dropout(hidden: layer)
        let (threshold, keep) = Self.dropoutThreshold(rate: rate)
        let outputs = layers[layer].outputs
        for row in 0..<batch {
            let key = SampleNoise.key(seed: options.seed, step: step, sample: firstSample + UInt64(row), purpose: UInt64(layer))
            for unit in 0..<outputs {
                mask[unit * batch + row] = SampleNoise.bits(key, unit) >> 40 >= threshold ? keep : 0
            }
        }
    }

    /// The mask value of one unit of hidden layer `layer` for the sample at
    /// `sample` in step `step`'s batch: kept (1/(1 − p)) when the top 24 bits
    /// of its random number, as a fraction, are at least p, else dropped (0).
    public static func dropoutMask(seed: UInt64, rate: Float, step: UInt64, sample: UInt64, layer: Int, unit: Int) -> Float {
        let (threshold, keep) = dropoutThreshold(rate: rate)
        let key = SampleNoise.key(seed: seed, step: step, sample: sample, purpose: UInt64(layer))
        return SampleNoise.bits(key, unit) >> 40 >= threshold ? keep : 0
    }

    private static func dropoutThreshold(rate: Float) -> (threshold: UInt64, keep: Float) {
        (UInt64((Double(rate) * 0x1p24).rounded()), Float(1 / (1 - Double(rate))))
    }

    private func multiply(_ values: UnsafeMutablePointer<Float>, by mask: UnsafePointer<Float>, count: Int) {
        for k in 0..<count { values[k] *= mask[k] }
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

    /// What hidden layer i passed to the next in training: its masked
    /// activations under dropout, else the activations.
    private func passedOn(_ i: Int, batch: Int) -> MatrixView {
        MatrixView(base: (dropped[i] ?? activations[i]).baseAddress!, rows: batch, columns: layers[i].outputs,
                   storedTransposed: true)
    }

    private func check(parameters: UnsafeBufferPointer<Float>, inputs: UnsafeBufferPointer<Float>,
                       labels: UnsafeBufferPointer<UInt8>? = nil, batch: Int) {
        precondition((1...maxBatch).contains(batch), "batch \(batch) outside 1...\(maxBatch)")
        precondition(parameters.count == architecture.parameterCount, "parameter buffer has the wrong size")
        precondition(inputs.count >= batch * architecture.inputSize, "fewer inputs than batch × inputSize")
        precondition(labels.map { $0.count >= batch } ?? true, "fewer labels than batch")
    }
}
