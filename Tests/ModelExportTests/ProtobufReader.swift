/// A minimal protobuf reader written from the encoding guide
/// (https://protobuf.dev/programming-guides/encoding/), independent of the
/// writer, so the tests can look inside what the exporter made.
struct ProtobufMessage {
    enum Value: Equatable {
        case varint(UInt64)
        case fixed32(UInt32)
        case bytes([UInt8])
    }

    let fields: [(number: Int, value: Value)]

    init(_ bytes: [UInt8]) throws {
        var fields: [(Int, Value)] = []
        var position = 0
        func varint() throws -> UInt64 {
            var result: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard position < bytes.count else { throw Malformed() }
                let byte = bytes[position]
                position += 1
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while position < bytes.count {
            let key = try varint()
            switch key & 7 {
            case 0: fields.append((Int(key >> 3), .varint(try varint())))
            case 2:
                let length = Int(try varint())
                guard position + length <= bytes.count else { throw Malformed() }
                fields.append((Int(key >> 3), .bytes(Array(bytes[position..<(position + length)]))))
                position += length
            case 5:
                guard position + 4 <= bytes.count else { throw Malformed() }
                let value = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[position + $1]) << (8 * $1) }
                fields.append((Int(key >> 3), .fixed32(value)))
                position += 4
            default: throw Malformed()
            }
        }
        self.fields = fields
    }

    struct Malformed: Error {}

    func all(_ number: Int) -> [Value] { fields.filter { $0.number == number }.map(\.value) }

    func varints(_ number: Int) -> [UInt64] {
        all(number).compactMap { if case .varint(let v) = $0 { return v } else { return nil } }
    }

    func strings(_ number: Int) -> [String] {
        all(number).compactMap { if case .bytes(let b) = $0 { return String(decoding: b, as: UTF8.self) } else { return nil } }
    }

    func messages(_ number: Int) throws -> [ProtobufMessage] {
        try all(number).compactMap { if case .bytes(let b) = $0 { return try ProtobufMessage(b) } else { return nil } }
    }

    func message(_ number: Int) throws -> ProtobufMessage {
        guard let first = try messages(number).first else { throw Malformed() }
        return first
    }
}
