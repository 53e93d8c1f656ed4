import Foundation

/// Bad data on disk: every case names the file or folder at fault, in one
/// line, so the command line can print it as is and exit with status 2.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case unreadable(URL, reason: String)
    case corruptGzip(URL, reason: String)
    case badMagic(URL, expected: UInt32, found: UInt32)
    case badDimensionCount(URL, expectedMagic: UInt32, foundMagic: UInt32)
    case emptyDimension(URL, index: Int)
    case tooLarge(URL, reason: String)
    case lengthMismatch(URL, expectedBytes: Int, actualBytes: Int)
    case missingDirectory(URL)
    case missingFile(directory: URL, candidates: [String])
    case countMismatch(images: URL, imageCount: Int, labels: URL, labelCount: Int)

    public var description: String {
        switch self {
        case let .unreadable(url, reason):
            return "\(url.path): cannot read: \(reason)"
        case let .corruptGzip(url, reason):
            return "\(url.path): corrupt or truncated gzip stream: \(reason)"
        case let .badMagic(url, expected, found):
            return "\(url.path): not an IDX file of the expected kind: magic number "
                + "\(hex(found)), expected \(hex(expected))"
        case let .badDimensionCount(url, expected, found):
            return "\(url.path): IDX header declares \(found & 0xff) dimensions, expected \(expected & 0xff) "
                + "(magic number \(hex(found)), expected \(hex(expected)))"
        case let .emptyDimension(url, index):
            return "\(url.path): IDX header declares dimension \(index) as 0"
        case let .tooLarge(url, reason):
            return "\(url.path): too large: \(reason)"
        case let .lengthMismatch(url, expected, actual):
            let problem = actual < expected ? "truncated" : "\(actual - expected) trailing bytes"
            return "\(url.path): \(problem): header implies \(expected) bytes, file holds \(actual) bytes"
        case let .missingDirectory(url):
            return "\(url.path): no such data folder"
        case let .missingFile(directory, candidates):
            let names = candidates.joined(separator: " or ")
            return "\(directory.path): missing \(names)"
        case let .countMismatch(images, imageCount, labels, labelCount):
            return "\(images.path) holds \(imageCount) images but \(labels.path) holds \(labelCount) labels"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
