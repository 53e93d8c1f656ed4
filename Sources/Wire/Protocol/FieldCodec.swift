/// Little-endian fields and length-prefixed strings of a header frame.
struct FieldWriter {
    /// Room for every fixed header of the protocol, so writing one grows the
    /// array once at most (shard lists and strings may still grow it).
    private(set) var bytes: [UInt8] = {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        return bytes
    }()

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ string: String, field: String) throws {
        let utf8 = Array(string.utf8)
        guard utf8.count <= WireLimits.maxStringBytes else {
            throw ProtocolError.oversized(what: field, size: utf8.count, limit: WireLimits.maxStringBytes)
        }
        write(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    func frame() throws -> ZMQMessage { try ZMQMessage(copying: bytes) }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }
}

/// Reads a header frame in place; every read checks the bytes are there first.
struct FieldReader {
    let bytes: UnsafeRawBufferPointer
    /// The message kind once the header names it; errors say "<kind> header".
    var kind: WireMessageKind?
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Built only when an error needs it: decoding a good message allocates no text.
    var what: String { kind.map { "\($0) header" } ?? "header" }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ field: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, field())
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    mutating func readBytes(_ count: Int, _ field: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try need(count, field())
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    mutating func readString(_ field: @autoclosure () -> String) throws -> String {
        let length = Int(try read(UInt16.self, "\(field()) length"))
        guard length <= WireLimits.maxStringBytes else {
            throw ProtocolError.oversized(what: "\(field()) in \(what)", size: length, limit: WireLimits.maxStringBytes)
        }
        let utf8 = try readBytes(length, field())
        let string = String(decoding: utf8, as: UTF8.self)
        // String(decoding:) repairs bad sequences; a repaired string differs from its bytes.
        guard string.utf8.elementsEqual(utf8) else { throw ProtocolError.invalidUTF8(what: "\(field()) in \(what)") }
        return string
    }

    /// Fails if `count` more items of `size` bytes would not exactly fill the rest of the frame.
    func expectExactly(_ count: Int, of size: Int, _ field: @autoclosure () -> String) throws {
        let needed = offset + count * size
        if needed > bytes.count {
            throw ProtocolError.truncated(what: "\(field()) in \(what)", needed: needed, available: bytes.count)
        }
        if needed < bytes.count {
            throw ProtocolError.oversized(what: what, size: bytes.count, limit: needed)
        }
    }

    /// Rejects trailing bytes: a frame longer than its fields is not ours.
    func finish() throws {
        guard remaining == 0 else { throw ProtocolError.oversized(what: what, size: bytes.count, limit: offset) }
    }

    private func need(_ count: Int, _ field: @autoclosure () -> String) throws {
        guard remaining >= count else {
            throw ProtocolError.truncated(what: "\(field()) in \(what)", needed: offset + count, available: bytes.count)
        }
    }
}

/// An optional CURVE public key travels as its Z85 text, empty when absent.
extension FieldWriter {
    mutating func write(_ key: CurveKey?, field: String) throws {
        try write(key?.z85 ?? "", field: field)
    }
}

extension FieldReader {
    mutating func readKey(_ field: String) throws -> CurveKey? {
        let text = try readString(field)
        if text.isEmpty { return nil }
        guard let key = CurveKey(z85: text) else { throw ProtocolError.invalidKey(what: field) }
        return key
    }
}
