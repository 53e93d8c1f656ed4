/// Counts of (true class, predicted class) over a test set, with each
/// class's precision (of those predicted as it, how many were) and recall
/// (of those that were, how many were predicted as it).
public struct ConfusionMatrix: Equatable {
    public let classes: Int
    /// counts[actual][predicted]
    public private(set) var counts: [[Int]]

    public init(classes: Int) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    }

    public mutating func add(actual: Int, predicted: Int) { counts[actual][predicted] += 1 }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { (0..<classes).reduce(0) { $0 + counts[$1][$1] } }
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// nil when nothing was predicted as `label`.
    public func precision(_ label: Int) -> Double? {
        let predicted = (0..<classes).reduce(0) { $0 + counts[$1][label] }
        return predicted == 0 ? nil : Double(counts[label][label]) / Double(predicted)
    }

    /// nil when the test set holds no `label`.
    public func recall(_ label: Int) -> Double? {
        let actual = counts[label].reduce(0, +)
        return actual == 0 ? nil : Double(counts[label][label]) / Double(actual)
    }
}
