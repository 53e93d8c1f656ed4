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
    /// header from asking for an enormous allocation.
    public static let maxPayloadBytes = 1 << 30

    public static func readImages(at url: URL) throws -> IDXImages {
        let (dimensions, payload) = try read(url, magic: 0x0000_0803, dimensionCount: 3)
        return IDXImages(count: dimensions[0], rows: dimensions[1], columns: dimensions[2], pixels: payload)
    }

    public static func readLabels(at url: URL) throws -> IDXLabels {
        let (_, payload) = try read(url, magic: 0x0000_0801, dimensionCount: 1)
        return IDXLabels(labels: payload)
    }

    /// Checks the header against what follows it and returns the declared
    /// dimensions with the payload (the bytes after the header).
    private static func read(_ url: URL, magic: UInt32, dimensionCount: Int) throws -> ([Int], [UInt8]) {
        let headerSize = 4 + 4 * dimensionCount
        var bytes = try contents(of: url, limit: headerSize + maxPayloadBytes)
        guard bytes.count >= 4 else {
            throw DatasetError.lengthMismatch(url, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        // Byte 2 is the element type (0x08, unsigned byte), byte 3 the
        // number of dimensions; a wrong count gets its own message because
        // it is how a labels file given for images shows.
        let found = bigEndianWord(bytes, at: 0)
        if found & 0xffff_ff00 != magic & 0xffff_ff00 {
            throw DatasetError.badMagic(url, expected: magic, found: found)
        }
        if found != magic {
            throw DatasetError.badDimensionCount(url, expectedMagic: magic, foundMagic: found)
        }
        guard bytes.count >= headerSize else {
            throw DatasetError.lengthMismatch(url, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        var dimensions: [Int] = []
        var payloadBytes = 1
        for index in 0..<dimensionCount {
            let size = Int(bigEndianWord(bytes, at: 4 + 4 * index))
            guard size > 0 else { throw DatasetError.emptyDimension(url, index: index) }
            let (product, overflow) = payloadBytes.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxPayloadBytes else {
                throw DatasetError.tooLarge(url, what: "header declares dimensions \(dimensionList(bytes, dimensionCount))",
                                            limit: maxPayloadBytes)
            }
            payloadBytes = product
            dimensions.append(size)
        }
        guard bytes.count == headerSize + payloadBytes else {
            throw DatasetError.lengthMismatch(url, expectedBytes: headerSize + payloadBytes, actualBytes: bytes.count)
        }
        bytes.removeFirst(headerSize)
        return (dimensions, bytes)
    }

    /// The file's bytes, inflated if it is gzip. A raw file's size is
    /// checked before it is read, for the same reason as `maxPayloadBytes`.
    private static func contents(of url: URL, limit: Int) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DatasetError.unreadable(url, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw DatasetError.unreadable(url, reason: "is a folder") }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw DatasetError.unreadable(url, reason: error.localizedDescription)
        }
        if Gzip.isCompressed(data) {
            return try Gzip.inflate(data, file: url, limit: limit)
        }
        guard data.count <= limit else {
            throw DatasetError.tooLarge(url, what: "file is \(data.count) bytes", limit: limit)
        }
        return [UInt8](data)
    }

    private static func bigEndianWord(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func dimensionList(_ bytes: [UInt8], _ count: Int) -> String {
        (0..<count).map { String(bigEndianWord(bytes, at: 4 + 4 * $0)) }.joined(separator: "x")
    }
}
