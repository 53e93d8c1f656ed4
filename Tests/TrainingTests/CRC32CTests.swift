import XCTest
import Training

/// TFRecord's checksum against published vectors: a wrong one makes
/// TensorBoard drop every record silently.
final class CRC32CTests: XCTestCase {
    /// RFC 3720, appendix B.4, and the common check value of "123456789".
    func testKnownVectors() {
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }

    /// TensorFlow's mask, checked against tensorboard's own masked_crc32c
    /// (tensorboard.compat.tensorflow_stub.pywrap_tensorflow) on the same bytes.
    func testMaskMatchesTensorFlow() {
        XCTAssertEqual(CRC32C.masked(CRC32C.checksum(Array("123456789".utf8))), 0xC78A_B0E5)
        XCTAssertEqual(CRC32C.masked(CRC32C.checksum([UInt8](repeating: 0, count: 32))), 0x0FD7_FFFA)
    }

    /// One framed record: its length, the two checksums, the data between.
    func testRecordFraming() {
        var out: [UInt8] = []
        EventRecord.frame(Array("event".utf8), into: &out)
        XCTAssertEqual(out.count, 8 + 4 + 5 + 4)
        XCTAssertEqual(Array(out[0..<8]), [5, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(littleEndian(out[8..<12]), CRC32C.masked(CRC32C.checksum(out[0..<8])))
        XCTAssertEqual(Array(out[12..<17]), Array("event".utf8))
        XCTAssertEqual(littleEndian(out[17..<21]), CRC32C.masked(CRC32C.checksum(Array("event".utf8))))
    }

    /// A scalar event's protobuf bytes, spelled out field by field.
    func testScalarEventBytes() {
        var out: [UInt8] = [], scratch: [UInt8] = []
        EventRecord.scalar(tag: Array("a/b".utf8), value: 1.5, step: 300, wallTime: 2.0, into: &out, scratch: &scratch)
        let data = Array(out[12..<(out.count - 4)])
        var expected: [UInt8] = [0x09] + withUnsafeBytes(of: (2.0).bitPattern.littleEndian, Array.init)  // wall_time
        expected += [0x10, 0xAC, 0x02]  // step 300 as a varint
        expected += [0x2A, 12, 0x0A, 10]  // summary (12 bytes), value (10 bytes)
        expected += [0x0A, 3] + Array("a/b".utf8)  // tag
        expected += [0x15] + withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian, Array.init)  // simple_value
        XCTAssertEqual(data, expected)
    }

    private func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
}
