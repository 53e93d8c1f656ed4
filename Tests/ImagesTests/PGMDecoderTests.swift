import Foundation
import Images
import XCTest

final class PGMDecoderTests: XCTestCase {
    private func decode(_ text: String, _ data: [UInt8] = []) throws -> GreyImage {
        try ImageFile.decode(Array(text.utf8) + data, file: "test.pgm")
    }

    func testBinaryWithComments() throws {
        let image = try decode("P5\n# a comment\n3 # width\n2\n255\n", [0, 10, 20, 30, 40, 255])
        XCTAssertEqual(image, GreyImage(width: 3, height: 2, pixels: [0, 10, 20, 30, 40, 255]))
    }

    func testASCIIIsScaledToItsLargestValue() throws {
        // Largest value 4: 0, 1, 2, 4 → 0, 63.75, 127.5, 255, rounded.
        let image = try decode("P2 2 2 4\n0 1\n2 4\n")
        XCTAssertEqual(image.pixels, [0, 64, 128, 255])
    }

    func testSixteenBitIsBigEndian() throws {
        // 1000 of 1000 → 255; 0x01F4 = 500 of 1000 → 127.5 → 128.
        let image = try decode("P5 2 1 1000\n", [0x03, 0xE8, 0x01, 0xF4])
        XCTAssertEqual(image.pixels, [255, 128])
    }

    func testShortDataAndValuesAboveTheLargestAreRefused() {
        XCTAssertThrowsError(try decode("P5 3 3 255\n", [1, 2, 3])) {
            XCTAssertEqual("\($0)", "test.pgm: not a valid PGM image: 3 bytes of pixels, 9 needed for 3×3")
        }
        XCTAssertThrowsError(try decode("P2 2 1 10\n3 11\n")) {
            XCTAssertEqual("\($0)", "test.pgm: not a valid PGM image: pixel 1 is 11, above the largest value 10")
        }
        XCTAssertThrowsError(try decode("P5 x 1 255\n")) {
            XCTAssertEqual("\($0)", "test.pgm: not a valid PGM image: width is missing or not a number")
        }
    }
}
