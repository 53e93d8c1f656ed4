/// The seeded starting weights of a run: the only randomness in training
/// besides the data order.
extension ParameterBuffer {
    /// Fresh parameters drawn from `SeededGenerator(seed:)`, weights layer by
    /// layer in buffer order, biases zero. The bound keeps the activations'
    /// variance steady through depth:
    /// - He uniform, sqrt(6 / fan_in), for relu and leaky-relu, which zero
    ///   (almost) half their inputs;
    /// - Glorot uniform, sqrt(6 / (fan_in + fan_out)), for sigmoid and tanh.
    public static func initialised(_ architecture: Architecture, seed: UInt64) -> ParameterBuffer {
        let parameters = ParameterBuffer(architecture: architecture)
        var generator = SeededGenerator(seed: seed)
        for layer in 0..<architecture.layerCount {
            let bound = initialisationBound(architecture, layer: layer)
            let weight = parameters.weight(layer: layer)
            for i in weight.indices { weight[i] = generator.nextSymmetric(bound: bound) }
        }
        return parameters
    }

    /// The half-width of the uniform distribution layer `layer`'s weights are drawn from.
    public static func initialisationBound(_ architecture: Architecture, layer: Int) -> Double {
        let fanIn = Double(architecture.layerSizes[layer])
        let fanOut = Double(architecture.layerSizes[layer + 1])
        switch architecture.activation {
        case .relu, .leakyRelu: return (6 / fanIn).squareRoot()
        case .sigmoid, .tanh: return (6 / (fanIn + fanOut)).squareRoot()
        }
    }
}
