import ModelExport
import XCTest

/// The wire format against the examples of protobuf's encoding guide.
final class ProtobufWriterTests: XCTestCase {
    func testVarintIsTheGuidesExample() {
        var writer = ProtobufWriter()
        writer.int(1, 150)
        XCTAssertEqual(writer.bytes, [0x08, 0x96, 0x01])
    }

    func testStringIsLengthPrefixed() {
        var writer = ProtobufWriter()
        writer.string(2, "testing")
        XCTAssertEqual(writer.bytes, [0x12, 0x07] + Array("testing".utf8))
    }

    func testNegativeIntTakesTenBytes() {
        var writer = ProtobufWriter()
        writer.int(1, -1)
        XCTAssertEqual(writer.bytes, [0x08] + [UInt8](repeating: 0xff, count: 9) + [0x01])
    }

    func testFloatIsFixed32LittleEndian() {
        var writer = ProtobufWriter()
        writer.float(2, 1)
        XCTAssertEqual(writer.bytes, [0x15, 0x00, 0x00, 0x80, 0x3f])
    }

    func testNestedMessageIsItsBytesLengthPrefixed() {
        var writer = ProtobufWriter()
        writer.message(3) { $0.int(1, 150) }
        XCTAssertEqual(writer.bytes, [0x1a, 0x03, 0x08, 0x96, 0x01])
    }
}
