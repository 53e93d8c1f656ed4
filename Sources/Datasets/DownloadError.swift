import Foundation

/// A download that failed or arrived damaged. One line each, naming the
/// URL and, where it matters, the file on disk.
public enum DownloadError: Error, CustomStringConvertible, Equatable {
    case noMirrors
    case httpStatus(URL, status: Int)
    case transport(URL, reason: String)
    case checksumMismatch(file: URL, from: URL, expected: String, actual: String)
    case sizeMismatch(file: URL, from: URL, expected: Int, actual: Int)
    case cannotWrite(URL, reason: String)
    case allMirrorsFailed(name: String, failures: [DownloadError])

    public var description: String {
        switch self {
        case .noMirrors:
            return "no mirror to download from"
        case let .httpStatus(url, status):
            return "\(url.absoluteString): HTTP status \(status), expected 200"
        case let .transport(url, reason):
            return "\(url.absoluteString): download failed: \(reason)"
        case let .checksumMismatch(file, url, expected, actual):
            return "\(file.path): download from \(url.absoluteString) rejected: md5 \(actual), expected \(expected)"
        case let .sizeMismatch(file, url, expected, actual):
            return "\(file.path): download from \(url.absoluteString) rejected: \(actual) bytes, expected \(expected)"
        case let .cannotWrite(url, reason):
            return "\(url.path): cannot write: \(reason)"
        case let .allMirrorsFailed(name, failures):
            return "\(name): every mirror failed: " + failures.map(\.description).joined(separator: "; ")
        }
    }
}
