import Images
import XCTest

final class ResizeTests: XCTestCase {
    func testHalvingAveragesEachBlock() {
        // 4×2 of 2×2 blocks: [0, 0, 100, 200 / 0, 0, 50, 250] → (0 + 0 + 0 + 0)/4, (100 + 200 + 50 + 250)/4.
        let image = GreyImage(width: 4, height: 2, pixels: [0, 0, 100, 200, 0, 0, 50, 250])
        XCTAssertEqual(image.resized(width: 2, height: 1).pixels, [0, 150])
    }

    func testPartlyCoveredPixelsCountByTheirShare() {
        // 3 → 2: the first output covers input 0 fully and half of input 1:
        // (0 + 0.5·90)/1.5 = 30; the second (0.5·90 + 180)/1.5 = 150.
        let image = GreyImage(width: 3, height: 1, pixels: [0, 90, 180])
        XCTAssertEqual(image.resized(width: 2, height: 1).pixels, [30, 150])
    }

    func testEnlargingRepeatsAndSameSizeIsUntouched() {
        let image = GreyImage(width: 2, height: 1, pixels: [10, 200])
        XCTAssertEqual(image.resized(width: 4, height: 2).pixels, [10, 10, 200, 200, 10, 10, 200, 200])
        XCTAssertEqual(image.resized(width: 2, height: 1), image)
    }

    func testAutoInvertsOnlyALightBackground() {
        let darkOnLight = GreyImage(width: 3, height: 3, pixels: [255, 255, 255, 255, 0, 255, 255, 255, 255])
        let (input, inverted) = darkOnLight.modelInput(side: 3, invert: .auto)
        XCTAssertTrue(inverted)
        XCTAssertEqual(input.pixels, [0, 0, 0, 0, 255, 0, 0, 0, 0])
        XCTAssertFalse(input.modelInput(side: 3, invert: .auto).inverted)
        XCTAssertFalse(darkOnLight.modelInput(side: 3, invert: .never).inverted)
        XCTAssertTrue(input.modelInput(side: 3, invert: .always).inverted)
    }
}
