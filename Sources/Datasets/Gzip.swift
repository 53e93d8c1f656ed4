import CZlib
import Foundation

/// Gzip detection and inflation with zlib's streaming API.
enum Gzip {
    /// Content decides, not the file name: a renamed or hand-decompressed
    /// file must still load.
    static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// Inflates every gzip member in `data`, handing the output to `consume`
    /// one chunk at a time, so the caller decides what to keep and when a
    /// stream has gone on too long.
    static func inflate(_ data: Data, file: URL, consume: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer, not a raw zlib one.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corruptGzip(file, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }

        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = UInt32(input.count)
            while true {
                let status = try chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    try consume(UnsafeBufferPointer(rebasing: out[0..<(out.count - Int(stream.avail_out))]))
                    return status
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    // gzip allows several members back to back; anything
                    // else after the first one is damage.
                    guard stream.avail_in > 0 else { return }
                    guard stream.avail_in >= 2, stream.next_in[0] == 0x1f, stream.next_in[1] == 0x8b else {
                        throw DatasetError.corruptGzip(file, reason: "\(stream.avail_in) bytes of garbage after the gzip stream")
                    }
                    inflateReset(&stream)
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw DatasetError.corruptGzip(file, reason: "stream ends early")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DatasetError.corruptGzip(file, reason: message)
                }
            }
        }
    }
}
