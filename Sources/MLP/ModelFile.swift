/// The model as DESIGN.md fixes it: tensors `layers.{i}.weight` [out, in] and
/// `layers.{i}.bias` [out], F32, in layer order, so the file's data section is
/// exactly the parameter buffer; `__metadata__` names the layers and activation.
public enum ModelFile {
    public static func encode(_ parameters: UnsafeBufferPointer<Float>, architecture: Architecture) -> Safetensors {
        precondition(parameters.count == architecture.parameterCount)
        var tensors: [Safetensors.Tensor] = []
        var offset = 0
        for layer in 0..<(architecture.layerSizes.count - 1) {
            let inputs = architecture.layerSizes[layer], outputs = architecture.layerSizes[layer + 1]
            let weight = UnsafeBufferPointer(rebasing: parameters[offset..<(offset + outputs * inputs)])
            offset += outputs * inputs
            let bias = UnsafeBufferPointer(rebasing: parameters[offset..<(offset + outputs)])
            offset += outputs
            tensors.append(.init(name: "layers.\(layer).weight", shape: [outputs, inputs], floats: weight))
            tensors.append(.init(name: "layers.\(layer).bias", shape: [outputs], floats: bias))
        }
        return Safetensors(tensors: tensors, metadata: metadata(architecture))
    }

    public static func metadata(_ architecture: Architecture) -> [String: String] {
        [
            "format": "pt",
            "layers": architecture.layerSizes.map(String.init).joined(separator: ","),
            "activation": architecture.activation.rawValue,
            "loss": architecture.loss.rawValue,
        ]
    }

    /// Reads back a model file: its architecture from the metadata and its
    /// parameters, checking every tensor's shape against that architecture.
    public static func decode(_ file: Safetensors, source: String) throws -> (Architecture, [Float]) {
        func bad(_ why: String) -> SafetensorsError { SafetensorsError(file: source, problem: why) }
        guard let layers = file.metadata["layers"], let activationName = file.metadata["activation"] else {
            throw bad("__metadata__ lacks layers or activation; not a dptrain model")
        }
        guard let activation = Activation(rawValue: activationName) else {
            throw bad("unknown activation \(activationName)")
        }
        let loss = file.metadata["loss"].flatMap(Loss.init(rawValue:)) ?? .crossEntropy
        let sizes = layers.split(separator: ",").compactMap { Int($0) }
        let architecture: Architecture
        do {
            architecture = try Architecture(layerSizes: sizes, activation: activation, loss: loss)
        } catch {
            throw bad("metadata layers \(layers): \(error)")
        }
        var parameters: [Float] = []
        parameters.reserveCapacity(architecture.parameterCount)
        for layer in 0..<(sizes.count - 1) {
            for (suffix, shape) in [("weight", [sizes[layer + 1], sizes[layer]]), ("bias", [sizes[layer + 1]])] {
                let name = "layers.\(layer).\(suffix)"
                guard let tensor = file[name] else { throw bad("missing tensor \(name)") }
                guard tensor.dtype == "F32", tensor.shape == shape else {
                    throw bad("tensor \(name) is \(tensor.dtype) \(tensor.shape), expected F32 \(shape)")
                }
                parameters.append(contentsOf: tensor.floats())
            }
        }
        return (architecture, parameters)
    }
}
