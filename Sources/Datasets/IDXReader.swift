import Foundation

/// Images from an IDX file (magic 0x00000803): `count` images of
/// `rows` x `columns` unsigned bytes, row-major, one image after another.
public struct IDXImages {
    public let count: Int
    public let rows: Int
    public let columns: Int
    public let pixels: [UInt8]
}

/// Labels from an IDX file (magic 0x00000801), one unsigned byte each.
public struct IDXLabels {
    public var count: Int { labels.count }
    public let labels: [UInt8]
}

/// Reads IDX files (http://yann.lecun.com/exdb/mnist/), gzipped or raw.
public enum IDXReader {
    /// No sane data set is bigger; the bound stops a damaged or hostile
    /// file from asking for an enormous allocation.
    public static let maxPayloadBytes = 1 << 30

    public static func readImages(at url: URL) throws -> IDXImages {
        let parsed = try parse(url, magic: 0x0000_0803)
        let dimensions = parsed.dimensions
        return IDXImages(count: dimensions[0], rows: dimensions[1], columns: dimensions[2], pixels: parsed.payload)
    }

    public static func readLabels(at url: URL) throws -> IDXLabels {
        IDXLabels(labels: try parse(url, magic: 0x0000_0801).payload)
    }

    private static func parse(_ url: URL, magic: UInt32) throws -> IDXParser {
        var parser = IDXParser(url: url, magic: magic, maxPayloadBytes: maxPayloadBytes)
        let data = try mapped(url)
        if Gzip.isCompressed(data) {
            try Gzip.inflate(data, file: url) { try parser.append($0) }
        } else {
            try data.withUnsafeBytes { try parser.append($0.bindMemory(to: UInt8.self)) }
        }
        try parser.finish()
        return parser
    }

    /// Mapped rather than read: a raw file is copied once, into the payload.
    private static func mapped(_ url: URL) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DatasetError.unreadable(url, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw DatasetError.unreadable(url, reason: "is a folder") }
        do {
            return try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw DatasetError.unreadable(url, reason: error.localizedDescription)
        }
    }
}
