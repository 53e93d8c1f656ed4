/// TensorBoard's event file format, written by hand (no protobuf library):
/// a TFRecord stream of `tensorflow.Event` messages.
///
/// TFRecord: u64 length (little-endian), u32 masked CRC-32C of those 8
/// bytes, the data, u32 masked CRC-32C of the data.
///
/// Event (event.proto): 1 wall_time (double), 2 step (int64),
/// 3 file_version (string), 5 summary (Summary). Summary: 1 value
/// (repeated Value). Value: 1 tag (string), 2 simple_value (float).
public enum EventRecord {
    /// The first record of every file: TensorBoard reads the version from it.
    public static func fileVersion(wallTime: Double, into out: inout [UInt8]) {
        var event: [UInt8] = []
        appendDouble(field: 1, wallTime, to: &event)
        appendBytes(field: 3, Array("brain.Event:2".utf8), to: &event)
        frame(event, into: &out)
    }

    /// One scalar, as `tf.summary.scalar` wrote them before tensors: an
    /// Event with one Summary.Value holding `simple_value`. `scratch` is
    /// reused so that a warm step allocates nothing.
    public static func scalar(tag: [UInt8], value: Float, step: Int, wallTime: Double,
                       into out: inout [UInt8], scratch: inout [UInt8]) {
        scratch.removeAll(keepingCapacity: true)
        // Value: tag, simple_value. Summary: value (field 1). Event: wall_time, step, summary.
        let valueLength = 1 + varintLength(UInt64(tag.count)) + tag.count + 1 + 4
        let summaryLength = 1 + varintLength(UInt64(valueLength)) + valueLength
        appendDouble(field: 1, wallTime, to: &scratch)
        appendKey(field: 2, wireType: 0, to: &scratch)
        appendVarint(UInt64(bitPattern: Int64(step)), to: &scratch)
        appendKey(field: 5, wireType: 2, to: &scratch)
        appendVarint(UInt64(summaryLength), to: &scratch)
        appendKey(field: 1, wireType: 2, to: &scratch)
        appendVarint(UInt64(valueLength), to: &scratch)
        appendBytes(field: 1, tag, to: &scratch)
        appendKey(field: 2, wireType: 5, to: &scratch)
        appendLittleEndian(value.bitPattern, to: &scratch)
        frame(scratch, into: &out)
    }

    /// TFRecord framing of one message.
    public static func frame(_ data: [UInt8], into out: inout [UInt8]) {
        let start = out.count
        appendLittleEndian(UInt64(data.count), to: &out)
        let lengthCRC = CRC32C.masked(CRC32C.checksum(out[start..<(start + 8)]))
        appendLittleEndian(lengthCRC, to: &out)
        out.append(contentsOf: data)
        appendLittleEndian(CRC32C.masked(CRC32C.checksum(data)), to: &out)
    }

    // MARK: - Protobuf wire format

    private static func appendKey(field: Int, wireType: UInt64, to out: inout [UInt8]) {
        appendVarint(UInt64(field) << 3 | wireType, to: &out)
    }

    private static func appendDouble(field: Int, _ value: Double, to out: inout [UInt8]) {
        appendKey(field: field, wireType: 1, to: &out)
        appendLittleEndian(value.bitPattern, to: &out)
    }

    private static func appendBytes(field: Int, _ bytes: [UInt8], to out: inout [UInt8]) {
        appendKey(field: field, wireType: 2, to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    private static func varintLength(_ value: UInt64) -> Int {
        var value = value, length = 1
        while value >= 0x80 { value >>= 7; length += 1 }
        return length
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}
