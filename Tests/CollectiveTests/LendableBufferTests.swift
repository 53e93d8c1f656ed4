import Collective
import XCTest

/// Writing bytes that a zero-copy send may still read fails loudly; other
/// ranges stay writable, and settling frees them all.
final class LendableBufferTests: XCTestCase {
    func testALentRangeCannotBeWrittenUntilSettled() throws {
        let buffer = LendableBuffer<Float>(count: 8, repeating: 1)
        let lent = buffer.lend(2..<4)
        XCTAssertEqual(Array(lent), [1, 1])
        XCTAssertTrue(buffer.isLent)
        XCTAssertThrowsError(try buffer.write(3..<6) { $0[3] = 9 }) { XCTAssertTrue($0 is BufferStillLent) }
        XCTAssertThrowsError(try buffer.write { $0[0] = 9 }, "the whole buffer overlaps the lent range")
        XCTAssertEqual(Array(buffer.readOnly), Array(repeating: 1, count: 8), "a refused write changed the bytes")
        try buffer.write(4..<8) { all in for i in 4..<8 { all[i] = 2 } }
        XCTAssertEqual(Array(buffer.readOnly), [1, 1, 1, 1, 2, 2, 2, 2])
        buffer.settle()
        XCTAssertFalse(buffer.isLent)
        try buffer.write { $0[3] = 5 }
        XCTAssertEqual(buffer.readOnly[3], 5)
    }

    func testLendingTheWholeBufferBlocksEveryRange() {
        let buffer = LendableBuffer<Int64>(count: 4, repeating: 0)
        _ = buffer.lendAll()
        for range in [0..<1, 1..<2, 3..<4] {
            XCTAssertThrowsError(try buffer.write(range) { _ in }, "\(range)")
        }
    }
}
