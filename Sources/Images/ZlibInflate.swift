import CZlib

/// Inflates a zlib stream (PNG's IDAT data) whose decompressed size is known
/// in advance: more or fewer bytes than that is damage, and the output is
/// never allowed to grow past it.
enum ZlibInflate {
    static func inflate(_ compressed: [UInt8], expectedCount: Int, file: String) throws -> [UInt8] {
        func bad(_ why: String) -> ImageError { ImageError(file: file, problem: "not a valid PNG image: \(why)") }
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw bad("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        guard compressed.count < Int(UInt32.max), expectedCount < Int(UInt32.max) else {
            throw bad("image data too large")
        }
        // One byte of room beyond the expected size shows a stream that goes on too long.
        var output = [UInt8](repeating: 0, count: expectedCount + 1)
        var input = compressed
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        let produced = output.count - Int(stream.avail_out)
        switch status {
        case Z_STREAM_END where produced == expectedCount:
            output.removeLast()
            return output
        case Z_STREAM_END:
            throw bad("image data inflates to \(produced) bytes, \(expectedCount) expected")
        case Z_BUF_ERROR where stream.avail_out == 0:
            throw bad("image data inflates to more than the \(expectedCount) bytes its size needs")
        case Z_BUF_ERROR:
            throw bad("image data ends early (\(produced) of \(expectedCount) bytes)")
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw bad("image data: \(message)")
        }
    }
}
