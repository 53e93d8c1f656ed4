import MLP

/// A dptrain model as an ONNX graph that onnxruntime (and any other ONNX
/// runtime) runs as it is:
///
///     pixels [N, inputs] F32, raw 0–255
///       → Div 255                      (dptrain's own pixel scaling, so callers feed image bytes)
///       → Gemm (transB) → activation   (each hidden layer; W stays [out, in] as in the safetensors file)
///       → Gemm (transB) → logits [N, outputs]
///       → Softmax (axis 1) → probabilities [N, outputs]
///
/// Opset 13 and IR version 7: every operator used has had its current
/// meaning since opset 13, and every onnxruntime since 1.6 loads it.
public enum ONNXExport {
    public static let opsetVersion: Int64 = 13
    public static let irVersion: Int64 = 7
    public static let inputName = "pixels"
    public static let probabilitiesName = "probabilities"
    public static let logitsName = "logits"

    /// The bytes of a .onnx file for `parameters` laid out as `architecture`
    /// says (ModelFile.decode's result). The same model gives the same bytes.
    public static func encode(_ parameters: [Float], architecture: Architecture) -> [UInt8] {
        precondition(parameters.count == architecture.parameterCount, "parameters do not fit the architecture")
        var nodes: [ONNX.Node] = []
        var initializers = [ONNX.Tensor(name: "pixel_scale", dims: [], values: [255])]
        nodes.append(.init(op: "Div", inputs: [inputName, "pixel_scale"], outputs: ["scaled"], name: "scale_pixels"))
        var current = "scaled"
        for layer in 0..<architecture.layerCount {
            let inputs = architecture.layerSizes[layer], outputs = architecture.layerSizes[layer + 1]
            let offsets = architecture.offsets(layer: layer)
            let weight = "layers.\(layer).weight", bias = "layers.\(layer).bias"
            initializers.append(.init(name: weight, dims: [outputs, inputs], values: Array(parameters[offsets.weight])))
            initializers.append(.init(name: bias, dims: [outputs], values: Array(parameters[offsets.bias])))
            let isLast = layer == architecture.layerCount - 1
            let linear = isLast ? logitsName : "layers.\(layer).linear"
            nodes.append(.init(op: "Gemm", inputs: [current, weight, bias], outputs: [linear],
                               name: "layers.\(layer)", attributes: [.int("transB", 1)]))
            current = linear
            if !isLast {
                let activated = "layers.\(layer).activated"
                nodes.append(activationNode(architecture.activation, input: current, output: activated, layer: layer))
                current = activated
            }
        }
        nodes.append(.init(op: "Softmax", inputs: [logitsName], outputs: [probabilitiesName], name: "softmax",
                           attributes: [.int("axis", 1)]))

        let batch: (fixed: Int?, symbol: String) = (nil, "N")
        let graph = ONNX.Graph(
            name: "dptrain_mlp", nodes: nodes, initializers: initializers,
            inputs: [.init(name: inputName, dims: [batch, (architecture.inputSize, "")])],
            outputs: [
                .init(name: probabilitiesName, dims: [batch, (architecture.outputSize, "")]),
                .init(name: logitsName, dims: [batch, (architecture.outputSize, "")]),
            ])
        let model = ONNX.Model(
            irVersion: irVersion, opsetVersion: opsetVersion, producer: "dptrain",
            documentation: "MLP \(architecture.layerSizes.map(String.init).joined(separator: "-")) "
                + "(\(architecture.activation.rawValue)). Input: pixels, float32 [N, \(architecture.inputSize)], "
                + "raw 0-255 values (the graph divides by 255). Outputs: probabilities (softmax) and logits.",
            metadata: [
                ("layers", architecture.layerSizes.map(String.init).joined(separator: ",")),
                ("activation", architecture.activation.rawValue),
                ("input_scaling", "divide by 255 inside the graph"),
            ],
            graph: graph)
        return model.encoded()
    }

    private static func activationNode(_ activation: Activation, input: String, output: String, layer: Int) -> ONNX.Node {
        let name = "layers.\(layer).\(activation.rawValue)"
        switch activation {
        case .relu: return .init(op: "Relu", inputs: [input], outputs: [output], name: name)
        case .leakyRelu:
            return .init(op: "LeakyRelu", inputs: [input], outputs: [output], name: name,
                         attributes: [.float("alpha", Activation.leakySlope)])
        case .sigmoid: return .init(op: "Sigmoid", inputs: [input], outputs: [output], name: name)
        case .tanh: return .init(op: "Tanh", inputs: [input], outputs: [output], name: name)
        }
    }
}
