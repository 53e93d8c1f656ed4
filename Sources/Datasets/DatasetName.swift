import Foundation

/// One file a data set is published as, with the checksums its authors
/// publish, so a download can be verified.
public struct DatasetFile: Equatable, Sendable {
    public let name: String
    /// nil when the publisher gives none.
    public let byteCount: Int?
    /// Lower-case hex.
    public let md5: String

    public init(name: String, byteCount: Int?, md5: String) {
        self.name = name
        self.byteCount = byteCount
        self.md5 = md5.lowercased()
    }
}

/// The data sets dptrain knows by name; the raw value is the command-line
/// spelling and the folder name under each search root.
public enum DatasetName: String, CaseIterable, Sendable {
    case mnist
    case fashionMNIST = "fashion-mnist"

    public var files: [DatasetFile] {
        switch self {
        case .mnist:
            return [
                DatasetFile(name: "train-images-idx3-ubyte.gz", byteCount: 9_912_422, md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                DatasetFile(name: "train-labels-idx1-ubyte.gz", byteCount: 28_881, md5: "d53e105ee54ea40749a09fcbcd1e9432"),
                DatasetFile(name: "t10k-images-idx3-ubyte.gz", byteCount: 1_648_877, md5: "9fb629c4189551a2d022fa330f9573f3"),
                DatasetFile(name: "t10k-labels-idx1-ubyte.gz", byteCount: 4_542, md5: "ec29112dd5afa0611ce80d1b7f02629c"),
            ]
        case .fashionMNIST:
            // The sums published in Zalando's README. Debian's package
            // recompresses the same data (without the file name in the gzip
            // header), so its copies are 23-24 bytes shorter and hash
            // differently; they are found by the locator, never downloaded.
            return [
                DatasetFile(name: "train-images-idx3-ubyte.gz", byteCount: 26_421_880, md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                DatasetFile(name: "train-labels-idx1-ubyte.gz", byteCount: 29_515, md5: "25c81989df183df01b3e8a0aad5dffbe"),
                DatasetFile(name: "t10k-images-idx3-ubyte.gz", byteCount: 4_422_102, md5: "bef4ecab320f06d8554ea6380940ec79"),
                DatasetFile(name: "t10k-labels-idx1-ubyte.gz", byteCount: 5_148, md5: "bb300cfdad3c16e7a12a480ee83cd310"),
            ]
        }
    }

    /// Base URLs tried in order; each file is fetched from base + file name.
    public var defaultMirrors: [URL] {
        switch self {
        case .mnist:
            return [
                URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!,
                URL(string: "https://storage.googleapis.com/cvdf-datasets/mnist/")!,
            ]
        case .fashionMNIST:
            return [URL(string: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")!]
        }
    }
}
