/// Protocol Buffers' wire format, the little of it an ONNX file needs:
/// every field is a key (field number << 3 | wire type) as a varint, then a
/// varint (wire type 0) or a length-prefixed run of bytes (wire type 2:
/// strings, bytes, packed numbers and nested messages). Fields are written
/// in the order they are appended, so the same model always gives the same
/// bytes. https://protobuf.dev/programming-guides/encoding/
public struct ProtobufWriter {
    public init() {}

    public private(set) var bytes: [UInt8] = []

    private enum WireType: UInt64 {
        case varint = 0
        case lengthDelimited = 2
    }

    /// An int64, int32 or enum field. Negative values take ten bytes, as
    /// protobuf's two's-complement varint encoding requires.
    public mutating func int(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    public mutating func string(_ field: Int, _ value: String) {
        data(field, Array(value.utf8))
    }

    public mutating func data(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A nested message: its encoding, length-prefixed.
    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        build(&nested)
        data(field, nested.bytes)
    }

    /// A float field (wire type 5: four little-endian bytes).
    public mutating func float(_ field: Int, _ value: Float) {
        varint(UInt64(field) << 3 | 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func key(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | type.rawValue)
    }

    /// Seven bits a byte, least significant first; the high bit says more follow.
    private mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}
