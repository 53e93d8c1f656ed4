import MLP

/// Fills `parameters` from a literal per layer: weight rows then bias.
func setLayer(_ parameters: ParameterBuffer, _ layer: Int, weight: [Float], bias: [Float]) {
    let w = parameters.weight(layer: layer), b = parameters.bias(layer: layer)
    precondition(w.count == weight.count && b.count == bias.count)
    for i in w.indices { w[i] = weight[i] }
    for i in b.indices { b[i] = bias[i] }
}

/// The network's linear outputs for `inputs` ([batch, inputSize]).
func outputs(_ architecture: Architecture, _ parameters: ParameterBuffer, inputs: [Float]) -> [Float] {
    let batch = inputs.count / architecture.inputSize
    let workspace = GradientWorkspace(architecture: architecture, maxBatch: batch)
    var result = [Float](repeating: 0, count: batch * architecture.outputSize)
    inputs.withUnsafeBufferPointer { x in
        result.withUnsafeMutableBufferPointer { y in
            workspace.outputs(parameters: parameters.readOnly, inputs: x, batch: batch, into: y)
        }
    }
    return result
}

/// The summed gradient over the batch and the batch's score.
func gradient(_ architecture: Architecture, _ parameters: ParameterBuffer, inputs: [Float], labels: [UInt8],
              workspace: GradientWorkspace? = nil) -> (gradient: [Float], result: BatchResult) {
    let workspace = workspace ?? GradientWorkspace(architecture: architecture, maxBatch: labels.count)
    var gradient = [Float](repeating: .nan, count: architecture.parameterCount)
    let result = inputs.withUnsafeBufferPointer { x in
        labels.withUnsafeBufferPointer { y in
            gradient.withUnsafeMutableBufferPointer { g in
                workspace.computeGradient(parameters: parameters.readOnly, inputs: x, labels: y,
                                          batch: labels.count, gradient: g)
            }
        }
    }
    return (gradient, result)
}

func evaluate(_ architecture: Architecture, _ parameters: ParameterBuffer, inputs: [Float], labels: [UInt8]) -> BatchResult {
    let workspace = GradientWorkspace(architecture: architecture, maxBatch: labels.count)
    return inputs.withUnsafeBufferPointer { x in
        labels.withUnsafeBufferPointer { y in
            workspace.evaluate(parameters: parameters.readOnly, inputs: x, labels: y, batch: labels.count)
        }
    }
}
