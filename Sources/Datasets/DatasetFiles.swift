import Foundation

/// Loads one split of an MNIST-format folder: `PREFIX-images-idx3-ubyte`
/// and `PREFIX-labels-idx1-ubyte`, each raw or with `.gz` appended.
public enum DatasetFiles {
    public static func load(directory: URL, split: DataSplit) throws -> LabeledImages {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
              isDirectory.boolValue
        else { throw DatasetError.missingDirectory(directory) }

        let imagesURL = try find(imagesName(split), in: directory)
        let labelsURL = try find(labelsName(split), in: directory)
        let images = try IDXReader.readImages(at: imagesURL)
        let labels = try IDXReader.readLabels(at: labelsURL)
        guard images.count == labels.count else {
            throw DatasetError.countMismatch(images: imagesURL, imageCount: images.count,
                                             labels: labelsURL, labelCount: labels.count)
        }
        return LabeledImages(rows: images.rows, columns: images.columns, pixels: images.pixels, labels: labels.labels)
    }

    /// True if `directory` holds both splits, so a lookup can settle on it.
    public static func holdsBothSplits(_ directory: URL) -> Bool {
        [DataSplit.train, .test].allSatisfy { split in
            existing(imagesName(split), in: directory) != nil && existing(labelsName(split), in: directory) != nil
        }
    }

    static func imagesName(_ split: DataSplit) -> String { "\(split.filePrefix)-images-idx3-ubyte" }
    static func labelsName(_ split: DataSplit) -> String { "\(split.filePrefix)-labels-idx1-ubyte" }

    private static func find(_ name: String, in directory: URL) throws -> URL {
        guard let url = existing(name, in: directory) else {
            throw DatasetError.missingFile(directory: directory, candidates: [name, name + ".gz"])
        }
        return url
    }

    /// The raw file wins over the gzipped one: it loads without inflating.
    private static func existing(_ name: String, in directory: URL) -> URL? {
        [name, name + ".gz"]
            .map { directory.appendingPathComponent($0) }
            .first { FileManager.default.isReadableFile(atPath: $0.path) }
    }
}
