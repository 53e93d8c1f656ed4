import Foundation

/// Checks an IDX file as its bytes arrive and keeps only what the header
/// promises: the header is validated before the payload is allocated, and
/// bytes past the promised length are counted, not stored, so neither a
/// hostile header nor a gzip bomb can claim much memory.
struct IDXParser {
    let url: URL
    let magic: UInt32
    let headerSize: Int
    /// Total bytes (header and payload) after which reading stops.
    let limit: Int

    private(set) var dimensions: [Int] = []
    private(set) var payload: [UInt8] = []
    private var header: [UInt8] = []
    private var payloadSize: Int?
    private var received = 0

    init(url: URL, magic: UInt32, maxPayloadBytes: Int) {
        self.url = url
        self.magic = magic
        headerSize = 4 + 4 * Int(magic & 0xff)
        limit = headerSize + maxPayloadBytes
    }

    mutating func append(_ chunk: UnsafeBufferPointer<UInt8>) throws {
        received += chunk.count
        guard received <= limit else {
            throw DatasetError.tooLarge(url, reason: "more than the \(limit)-byte limit of IDX data")
        }
        var rest = chunk[...]
        if payloadSize == nil {
            let taken = rest.prefix(headerSize - header.count)
            header += taken
            rest = rest.dropFirst(taken.count)
            if header.count >= 4 { try checkMagic() }
            if header.count == headerSize { try startPayload() }
        }
        if let payloadSize {
            payload += rest.prefix(payloadSize - payload.count)
        }
    }

    /// Call once every byte has arrived.
    func finish() throws {
        guard let payloadSize, received == headerSize + payloadSize else {
            throw DatasetError.lengthMismatch(url, expectedBytes: headerSize + (payloadSize ?? 0), actualBytes: received)
        }
    }

    /// Checked as soon as four bytes are in, so a file of the wrong kind
    /// is named as such even when it is shorter than a header.
    private func checkMagic() throws {
        // Byte 2 is the element type (0x08, unsigned byte), byte 3 the
        // number of dimensions; a wrong count gets its own message because
        // it is how a labels file given for images shows.
        let found = word(at: 0)
        if found & 0xffff_ff00 != magic & 0xffff_ff00 {
            throw DatasetError.badMagic(url, expected: magic, found: found)
        }
        if found != magic {
            throw DatasetError.badDimensionCount(url, expectedMagic: magic, foundMagic: found)
        }
    }

    private mutating func startPayload() throws {
        let sizes = (0..<Int(magic & 0xff)).map { Int(word(at: 4 + 4 * $0)) }
        if let empty = sizes.firstIndex(of: 0) {
            throw DatasetError.emptyDimension(url, index: empty)
        }
        var bytes = 1
        for size in sizes {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: size)
            guard !overflow, product <= limit - headerSize else {
                let declared = sizes.map(String.init).joined(separator: "x")
                throw DatasetError.tooLarge(url, reason: "header declares \(declared) bytes, "
                    + "more than the \(limit - headerSize)-byte limit")
            }
            bytes = product
        }
        dimensions = sizes
        payloadSize = bytes
        payload.reserveCapacity(bytes)
    }

    private func word(at offset: Int) -> UInt32 {
        header[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
