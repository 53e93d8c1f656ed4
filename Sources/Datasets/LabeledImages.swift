/// A data set in memory: `count` images of `rows` x `columns` bytes, stored
/// one after another in `pixels`, and one label per image.
public struct LabeledImages {
    public let rows: Int
    public let columns: Int
    public let pixels: [UInt8]
    public let labels: [UInt8]

    public var count: Int { labels.count }
    /// Pixels per image: the width of the network's input layer.
    public var inputSize: Int { rows * columns }

    /// For data built in code; files go through `DatasetFiles.load`, which
    /// reports inconsistent shapes as errors instead.
    public init(rows: Int, columns: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(rows > 0 && columns > 0, "image shape must be positive")
        precondition(pixels.count == labels.count * rows * columns, "pixels must hold one image per label")
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
        self.labels = labels
    }
}

/// Which half of an MNIST-format data set: the `train-` or the `t10k-` files.
public enum DataSplit: Sendable {
    case train, test

    /// The prefix the files of this split carry, as MNIST publishes them.
    public var filePrefix: String {
        switch self {
        case .train: return "train"
        case .test: return "t10k"
        }
    }
}
