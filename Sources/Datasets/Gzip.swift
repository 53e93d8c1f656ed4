import CZlib
import Foundation

/// Gzip detection and inflation with zlib's streaming API.
public enum Gzip {
    /// The most input handed to zlib at once (its counters are 32-bit).
    public static let largestInput = 1 << 30

    /// Content decides, not the file name: a renamed or hand-decompressed
    /// file must still load.
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// Inflates every gzip member in `data`, handing the output to `consume`
    /// one chunk at a time, so the caller decides what to keep and when a
    /// stream has gone on too long.
    /// `largestInput` is a parameter only so tests can cross its boundary with small files.
    public static func inflate(
        _ data: Data, file: URL, largestInput: Int = Gzip.largestInput, consume: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) throws {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer, not a raw zlib one.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corruptGzip(file, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }

        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            // zlib counts input in 32 bits: a file over 4 GiB is fed a gigabyte at a time.
            let base = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            var fed = 0
            func feed() {
                let next = min(input.count - fed, largestInput)
                stream.next_in = base.map { $0 + fed }
                stream.avail_in = UInt32(next)
                fed += next
            }
            feed()
            while true {
                if stream.avail_in == 0, fed < input.count { feed() }
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
                    // Read from the whole input: the next member may start across a piece's end.
                    let position = fed - Int(stream.avail_in)
                    guard position < input.count else { return }
                    guard input.count - position >= 2, input[position] == 0x1f, input[position + 1] == 0x8b else {
                        throw DatasetError.corruptGzip(file, reason: "\(input.count - position) bytes of garbage after the gzip stream")
                    }
                    inflateReset(&stream)
                case Z_BUF_ERROR where stream.avail_in == 0 && fed < input.count:
                    feed()
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
