import Foundation
import Images
import XCTest

/// PNGs written by scripts/lib/test_images.py (Python's zlib and the
/// specification's filters, every row filter in turn), decoded and compared
/// with grey values worked out by hand.
final class PNGDecoderTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("images-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// Writes a PNG from a spec through the Python writer and returns its path.
    private func png(_ spec: [String: Any], name: String = "image.png") throws -> String {
        let specURL = folder.appendingPathComponent("\(name).json")
        try JSONSerialization.data(withJSONObject: spec).write(to: specURL)
        let path = folder.appendingPathComponent(name).path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/lib/test_images.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "png", path, specURL.path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "test_images.py failed for \(spec)")
        return path
    }

    /// A 5×5 image (odd, so packed rows end mid-byte; five rows, so every filter is used).
    private func check(_ spec: [String: Any], expect grey: (Int, Int) -> Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var full = spec
        full["width"] = 5
        full["height"] = 5
        let image = try ImageFile.read(try png(full))
        XCTAssertEqual(image.width, 5, file: file, line: line)
        XCTAssertEqual(image.height, 5, file: file, line: line)
        let expected = (0..<25).map { UInt8(grey($0 % 5, $0 / 5)) }
        XCTAssertEqual(image.pixels, expected, file: file, line: line)
    }

    private func samples(_ perPixel: (Int, Int) -> [Int]) -> [Int] {
        (0..<25).flatMap { perPixel($0 % 5, $0 / 5) }
    }

    func testGreyAtEveryDepth() throws {
        let g = { (x: Int, y: Int) in (x * 51 + y * 13) % 256 }
        try check(["colour_type": 0, "bit_depth": 8, "samples": samples { [g($0, $1)] }], expect: g)
        try check(["colour_type": 0, "bit_depth": 16, "samples": samples { [g($0, $1) * 256 + $0 * 40] }], expect: g)
        try check(["colour_type": 0, "bit_depth": 1, "samples": samples { [($0 + $1) % 2] }]) { ($0 + $1) % 2 * 255 }
        try check(["colour_type": 0, "bit_depth": 2, "samples": samples { [($0 + $1) % 4] }]) { ($0 + $1) % 4 * 85 }
        try check(["colour_type": 0, "bit_depth": 4, "samples": samples { [($0 + 2 * $1) % 16] }]) { ($0 + 2 * $1) % 16 * 17 }
    }

    // Luma by hand: red 0.299·255 = 76.2, green 0.587·255 = 149.7, blue 0.114·255 = 29.1,
    // (200, 100, 50) → 59.8 + 58.7 + 5.7 = 124.2.
    private let colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 10, 10], [200, 100, 50]]
    private let lumas = [76, 150, 29, 10, 124]

    func testRGBBecomesLuma() throws {
        try check(["colour_type": 2, "bit_depth": 8, "samples": samples { self.colours[($0 + $1) % 5] }]) { self.lumas[($0 + $1) % 5] }
        try check(["colour_type": 2, "bit_depth": 16, "samples": samples { x, _ in self.colours[x].map { $0 * 257 } }]) { x, _ in self.lumas[x] }
    }

    func testAlphaIsLaidOverWhite() throws {
        // (grey, alpha) → grey·a/255 + 255·(1 − a/255): transparent is white, 128 of black is 127.
        let pairs = [[0, 0], [0, 255], [0, 128], [200, 255], [100, 0]]
        let shown = [255, 0, 127, 200, 255]
        try check(["colour_type": 4, "bit_depth": 8, "samples": samples { x, _ in pairs[x] }]) { x, _ in shown[x] }
        try check(["colour_type": 6, "bit_depth": 8, "samples": samples { _, y in [pairs[y][0], pairs[y][0], pairs[y][0], pairs[y][1]] }]) { _, y in shown[y] }
        try check(["colour_type": 6, "bit_depth": 16, "samples": samples { _, _ in [65535, 0, 0, 65535] }]) { _, _ in 76 }
    }

    func testPaletteWithTransparency() throws {
        // Entry 0 black, 1 white but transparent, 2 red; tRNS covers the first two entries only.
        let spec: [String: Any] = ["colour_type": 3, "bit_depth": 4, "samples": samples { [($0 + $1) % 3] },
                                   "palette": [0, 0, 0, 255, 255, 255, 255, 0, 0], "trns": [255, 0]]
        try check(spec) { [0, 255, 76][($0 + $1) % 3] }
    }

    func testGreyTransparentColour() throws {
        try check(["colour_type": 0, "bit_depth": 8, "samples": samples { x, _ in [x == 2 ? 7 : 20] }, "trns": [0, 7]]) { x, _ in x == 2 ? 255 : 20 }
    }

    func testInterlacedIsRefusedNamingTheFile() throws {
        let path = try png(["colour_type": 0, "bit_depth": 8, "width": 2, "height": 2, "samples": [1, 2, 3, 4], "interlace": 1])
        XCTAssertThrowsError(try ImageFile.read(path)) { error in
            XCTAssertEqual("\(error)", "\(path): interlaced (Adam7) PNG is not supported; save it without interlacing")
        }
    }

    func testDamageIsReportedNotDecoded() throws {
        let path = try png(["colour_type": 0, "bit_depth": 8, "width": 4, "height": 4, "samples": Array(0..<16)])
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func refused(_ bytes: Data, _ why: String) throws {
            let damaged = folder.appendingPathComponent("damaged.png")
            try bytes.write(to: damaged)
            XCTAssertThrowsError(try ImageFile.read(damaged.path)) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(damaged.path): not a valid PNG image: "), "\(error)")
                XCTAssertTrue("\(error)".contains(why), "\(error) should say \(why)")
            }
        }
        var flipped = good
        flipped[flipped.count - 20] ^= 0x40  // inside the last IDAT
        try refused(flipped, "wrong CRC")
        try refused(good.prefix(good.count - 15), "truncated")
        try refused(good.prefix(8), "truncated")
        XCTAssertThrowsError(try ImageFile.read(folder.appendingPathComponent("missing.png").path)) {
            XCTAssertTrue("\($0)".contains("missing.png: cannot be read"), "\($0)")
        }
    }
}
