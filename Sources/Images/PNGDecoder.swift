import CZlib

/// PNG files: the signature, then chunks (length, type, data, CRC-32 over
/// type and data). Every CRC is checked, so damage anywhere is reported
/// rather than decoded into a wrong picture. Reads IHDR, PLTE, tRNS and the
/// IDAT stream; ancillary chunks (gamma, text, ...) are skipped.
/// Supported: every colour type and bit depth of the standard, not
/// interlaced (Adam7 is refused with a line saying so).
enum PNGDecoder {
    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    static func isPNG(_ bytes: [UInt8]) -> Bool { bytes.starts(with: signature) }

    static func decode(_ bytes: [UInt8], file: String) throws -> GreyImage {
        func bad(_ why: String) -> ImageError { ImageError(file: file, problem: "not a valid PNG image: \(why)") }
        guard isPNG(bytes) else { throw bad("no PNG signature") }
        var header: PNGHeader?
        var palette: [UInt8] = []
        var transparency: [UInt8] = []
        var compressed: [UInt8] = []
        var position = signature.count
        while true {
            guard bytes.count - position >= 12 else { throw bad("file ends before the IEND chunk (truncated?)") }
            let length = Int(bigEndian32(bytes, position))
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            guard length <= bytes.count - position - 12 else { throw bad("chunk \(type) runs past the end of the file (truncated?)") }
            let data = Array(bytes[(position + 8)..<(position + 8 + length)])
            let stored = bigEndian32(bytes, position + 8 + length)
            let computed = bytes[(position + 4)..<(position + 8 + length)].withContiguousStorageIfAvailable {
                UInt32(crc32(0, $0.baseAddress, UInt32($0.count)))
            } ?? 0
            guard stored == computed else { throw bad("chunk \(type) has a wrong CRC (damaged file)") }
            position += 12 + length
            if header == nil && type != "IHDR" { throw bad("first chunk is \(type), not IHDR") }
            switch type {
            case "IHDR": header = try PNGHeader(data, file: file)
            case "PLTE": palette = data
            case "tRNS": transparency = data
            case "IDAT": compressed.append(contentsOf: data)
            case "IEND":
                guard let header else { throw bad("no IHDR chunk") }
                guard !compressed.isEmpty else { throw bad("no IDAT chunk") }
                let filtered = try ZlibInflate.inflate(compressed, expectedCount: header.filteredCount, file: file)
                let rows = try PNGFilters.unfilter(filtered, header: header, bad: bad)
                return try PNGPixels.grey(rows, header: header, palette: palette, transparency: transparency, bad: bad)
            default:
                // Bit 5 of the first letter clear: a critical chunk this decoder would have to understand.
                guard let first = type.utf8.first, first & 0x20 != 0 else { throw bad("unknown critical chunk \(type)") }
            }
        }
    }
}

/// The IHDR chunk: size, bit depth, colour type, interlacing.
struct PNGHeader {
    let width: Int
    let height: Int
    let bitDepth: Int
    /// 0 grey, 2 RGB, 3 palette, 4 grey and alpha, 6 RGB and alpha.
    let colourType: Int

    var channels: Int { [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colourType]! }
    var bitsPerPixel: Int { channels * bitDepth }
    var rowBytes: Int { (width * bitsPerPixel + 7) / 8 }
    /// Each row's bytes after a one-byte filter type.
    var filteredCount: Int { height * (1 + rowBytes) }

    init(_ data: [UInt8], file: String) throws {
        func bad(_ why: String) -> ImageError { ImageError(file: file, problem: "not a valid PNG image: \(why)") }
        guard data.count == 13 else { throw bad("IHDR is \(data.count) bytes, not 13") }
        width = Int(bigEndian32(data, 0))
        height = Int(bigEndian32(data, 4))
        bitDepth = Int(data[8])
        colourType = Int(data[9])
        guard width > 0, height > 0 else { throw bad("size \(width)×\(height) is empty") }
        guard width * height <= ImageLimits.largestPixelCount else {
            throw bad("\(width)×\(height) is larger than \(ImageLimits.largestPixelCount) pixels")
        }
        let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let depths = allowed[colourType] else { throw bad("colour type \(colourType) does not exist") }
        guard depths.contains(bitDepth) else { throw bad("bit depth \(bitDepth) is not allowed for colour type \(colourType)") }
        guard data[10] == 0, data[11] == 0 else { throw bad("unknown compression or filter method") }
        guard data[12] == 0 else {
            throw ImageError(file: file, problem: "interlaced (Adam7) PNG is not supported; save it without interlacing")
        }
    }
}

func bigEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
}
