import CZlib

/// An 8-bit greyscale PNG of raw pixels (zlib's deflate and CRC-32), for
/// the report's images of mistakes: a data URI of a few hundred bytes
/// instead of 784 SVG rectangles an image.
enum PNGImage {
    static func greyscale(width: Int, height: Int, pixels: ArraySlice<UInt8>) -> [UInt8] {
        precondition(pixels.count == width * height, "one byte a pixel")
        var header: [UInt8] = []
        appendBigEndian(UInt32(width), to: &header)
        appendBigEndian(UInt32(height), to: &header)
        header += [8, 0, 0, 0, 0]  // bit depth 8, greyscale, deflate, adaptive filters, no interlace
        var raw: [UInt8] = []
        raw.reserveCapacity((width + 1) * height)
        var row = pixels.startIndex
        for _ in 0..<height {
            raw.append(0)  // filter: none
            raw += pixels[row..<(row + width)]
            row += width
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", deflate(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    private static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { compress2(target.baseAddress, &length, $0.baseAddress, uLong($0.count), 9) }
        }
        precondition(status == Z_OK, "compress2 failed with a buffer of compressBound's size")
        return Array(out.prefix(Int(length)))
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        appendBigEndian(UInt32(data.count), to: &png)
        let typed = Array(type.utf8) + data
        png += typed
        let crc = typed.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        appendBigEndian(UInt32(crc), to: &png)
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }
}
