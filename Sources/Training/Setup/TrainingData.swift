import Datasets
import Foundation
import MLP

/// Where the training and test images come from, as the command line says it.
public enum DataSource {
    case named(DatasetName)
    case folder(String)
}

extension DataSource {
    /// The folder holding the files: given, or looked up (and downloaded) by name.
    public func folder(log: @escaping (String) -> Void) throws -> URL {
        switch self {
        case .folder(let path): return URL(fileURLWithPath: path)
        case .named(let name): return try DatasetLocator().resolve(name, mirrors: nil, log: log)
        }
    }
}

/// The training and test splits, checked against the network's shape.
public struct TrainingData {
    public let train: LabeledImages
    public let test: LabeledImages
    /// Held out of the training files (`holdingOut(fraction:seed:)`); nil without --validation-fraction.
    public let validation: LabeledImages?

    public init(train: LabeledImages, test: LabeledImages, validation: LabeledImages? = nil) {
        self.train = train; self.test = test; self.validation = validation
    }

    /// Loads both splits. `testFolder` takes the t10k- pair from elsewhere.
    public static func load(
        _ source: DataSource, testFolder: String?, log: @escaping (String) -> Void
    ) throws -> TrainingData {
        let trainFolder = try source.folder(log: log)
        let train = try DatasetFiles.load(directory: trainFolder, split: .train)
        let test = try DatasetFiles.load(
            directory: testFolder.map { URL(fileURLWithPath: $0) } ?? trainFolder, split: .test)
        return TrainingData(train: train, test: test)
    }

    /// The network must take the images' pixel count and have an output per label.
    public func check(against architecture: Architecture) throws {
        try Self.check(train, named: "training", against: architecture)
        try Self.check(test, named: "test", against: architecture)
    }

    /// One split against the network: `evaluate` has only a test set.
    public static func check(_ split: LabeledImages, named name: String, against architecture: Architecture) throws {
        guard split.inputSize == architecture.inputSize else {
            throw DataShapeError(
                "--layers: the first size is \(architecture.inputSize) but the \(name) images have "
                    + "\(split.inputSize) pixels (\(split.rows)x\(split.columns))")
        }
        if let largest = split.labels.max(), Int(largest) >= architecture.outputSize {
            throw DataShapeError(
                "--layers: the last size is \(architecture.outputSize) but the \(name) labels go up to \(largest)")
        }
    }
}

public struct DataShapeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
