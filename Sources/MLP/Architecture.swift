import Foundation

/// The shape of a network: layer sizes from input to output, the hidden
/// activation, and the loss that the (linear) output layer feeds.
public struct Architecture: Equatable, Sendable {
    public let layerSizes: [Int]
    public let activation: Activation
    public let loss: Loss

    public init(layerSizes: [Int], activation: Activation, loss: Loss = .crossEntropy) throws {
        guard layerSizes.count >= 2 else { throw ArchitectureError.tooFewLayers(layerSizes) }
        if let bad = layerSizes.firstIndex(where: { $0 <= 0 }) {
            throw ArchitectureError.nonPositiveSize(layerSizes, index: bad)
        }
        self.layerSizes = layerSizes
        self.activation = activation
        self.loss = loss
    }

    /// Parses a comma-separated size list such as "784,128,10".
    public init(parsing text: String, activation: Activation, loss: Loss = .crossEntropy) throws {
        var sizes: [Int] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            guard let size = Int(trimmed) else { throw ArchitectureError.unreadable(text, field: trimmed) }
            sizes.append(size)
        }
        try self.init(layerSizes: sizes, activation: activation, loss: loss)
    }

    public var inputSize: Int { layerSizes[0] }
    public var outputSize: Int { layerSizes[layerSizes.count - 1] }
    /// Number of weight layers (one fewer than the number of sizes).
    public var layerCount: Int { layerSizes.count - 1 }

    public var parameterCount: Int {
        (0..<layerCount).reduce(0) { $0 + (layerSizes[$1] + 1) * layerSizes[$1 + 1] }
    }
}

public enum ArchitectureError: Error, CustomStringConvertible, Equatable, Sendable {
    case tooFewLayers([Int])
    case nonPositiveSize([Int], index: Int)
    case unreadable(String, field: String)
    case unknownActivation(String)
    case unknownLoss(String)

    public var description: String {
        switch self {
        case .tooFewLayers(let sizes):
            return "layer list \(Self.show(sizes)) needs at least 2 sizes (inputs and outputs)"
        case .nonPositiveSize(let sizes, let index):
            return "layer list \(Self.show(sizes)): size \(sizes[index]) at position \(index + 1) must be at least 1"
        case .unreadable(let text, let field):
            return "layer list \"\(text)\": \"\(field)\" is not a whole number (expected e.g. 784,128,10)"
        case .unknownActivation(let name):
            let known = Activation.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown activation \"\(name)\" (expected one of: \(known))"
        case .unknownLoss(let name):
            let known = Loss.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown loss \"\(name)\" (expected one of: \(known))"
        }
    }

    private static func show(_ sizes: [Int]) -> String {
        "\"" + sizes.map(String.init).joined(separator: ",") + "\""
    }
}
