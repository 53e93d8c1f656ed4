/// Where each layer's parameters live in the one flat buffer. For layer i in
/// order: its weight [outputs, inputs] row-major (PyTorch Linear's layout),
/// then its bias [outputs].
extension Architecture {
    public func offsets(layer: Int) -> (weight: Range<Int>, bias: Range<Int>) {
        precondition((0..<layerCount).contains(layer), "layer \(layer) out of 0..<\(layerCount)")
        var start = 0
        for earlier in 0..<layer { start += (layerSizes[earlier] + 1) * layerSizes[earlier + 1] }
        let inputs = layerSizes[layer], outputs = layerSizes[layer + 1]
        let weightEnd = start + outputs * inputs
        return (start..<weightEnd, weightEnd..<weightEnd + outputs)
    }
}

/// One contiguous buffer of Floats laid out as `Architecture.offsets(layer:)`
/// says. Parameters, gradients and momentum all use it, so that a gradient
/// element and the parameter it belongs to share an index.
public final class ParameterBuffer {
    public let values: UnsafeMutableBufferPointer<Float>
    /// The layout behind the layer views; nil for a flat buffer that is only
    /// ever used as a whole (e.g. an optimiser's velocity).
    public let architecture: Architecture?

    /// A zero-filled buffer for `architecture`'s parameters.
    public init(architecture: Architecture) {
        self.architecture = architecture
        values = .allocate(capacity: architecture.parameterCount)
        values.initialize(repeating: 0)
    }

    /// A zero-filled flat buffer of `count` Floats.
    public init(count: Int) {
        architecture = nil
        values = .allocate(capacity: count)
        values.initialize(repeating: 0)
    }

    deinit { values.deallocate() }

    public var count: Int { values.count }

    public var readOnly: UnsafeBufferPointer<Float> { UnsafeBufferPointer(values) }

    public func offsets(layer: Int) -> (weight: Range<Int>, bias: Range<Int>) {
        guard let architecture else { preconditionFailure("a flat ParameterBuffer has no layers") }
        return architecture.offsets(layer: layer)
    }

    /// Layer `layer`'s weight [outputs, inputs], row-major; a view, not a copy.
    public func weight(layer: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: values[offsets(layer: layer).weight])
    }

    /// Layer `layer`'s bias [outputs]; a view, not a copy.
    public func bias(layer: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: values[offsets(layer: layer).bias])
    }
}
