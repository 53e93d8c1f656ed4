import Datasets
import Foundation
import XCTest

final class IDXReaderTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = try makeTemporaryFolder(self)
    }

    // Reference values computed with Python's gzip module, not with this code.
    func testReadsTheRealGzippedTestSet() throws {
        let images = try IDXReader.readImages(at: sharedMNIST.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        let labels = try IDXReader.readLabels(at: sharedMNIST.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        try checkMNISTTestSet(images, labels)
    }

    func testReadsRawCopiesByContentNotByName() throws {
        let rawImages = folder.appendingPathComponent("t10k-images-idx3-ubyte")
        let rawLabels = folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz")  // raw, despite the name
        try gunzipped(sharedMNIST.appendingPathComponent("t10k-images-idx3-ubyte.gz")).write(to: rawImages)
        try gunzipped(sharedMNIST.appendingPathComponent("t10k-labels-idx1-ubyte.gz")).write(to: rawLabels)
        try checkMNISTTestSet(IDXReader.readImages(at: rawImages), IDXReader.readLabels(at: rawLabels))
    }

    private func checkMNISTTestSet(_ images: IDXImages, _ labels: IDXLabels) throws {
        XCTAssertEqual(images.count, 10_000)
        XCTAssertEqual(images.rows, 28)
        XCTAssertEqual(images.columns, 28)
        XCTAssertEqual(images.pixels.count, 10_000 * 784)
        XCTAssertEqual(labels.count, 10_000)
        XCTAssertEqual(Array(labels.labels.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        XCTAssertEqual(images.pixels[0..<784].reduce(0) { $0 + Int($1) }, 18_454)
        XCTAssertEqual(images.pixels[(9_999 * 784)...].reduce(0) { $0 + Int($1) }, 41_833)
        XCTAssertEqual(images.pixels.reduce(0) { $0 + Int($1) }, 264_923_200)
    }

    func testReadsASmallHandMadeFile() throws {
        let url = try write("tiny", idxBytes(magic: 0x803, dimensions: [2, 1, 3], payload: [1, 2, 3, 4, 5, 6]))
        let images = try IDXReader.readImages(at: url)
        XCTAssertEqual([images.count, images.rows, images.columns], [2, 1, 3])
        XCTAssertEqual(images.pixels, [1, 2, 3, 4, 5, 6])
    }

    func testRejectsTruncatedPayload() throws {
        let url = try write("short", idxBytes(magic: 0x803, dimensions: [2, 2, 2], payload: [1, 2, 3, 4, 5, 6, 7]))
        let message = errorMessage { try IDXReader.readImages(at: url) }
        XCTAssertEqual(message, "\(url.path): truncated: header implies 24 bytes, file holds 23 bytes")
    }

    func testRejectsTruncatedHeader() throws {
        let url = try write("header", idxBytes(magic: 0x803, dimensions: [2], payload: []))
        let message = errorMessage { try IDXReader.readImages(at: url) }
        XCTAssertEqual(message, "\(url.path): truncated: header implies 16 bytes, file holds 8 bytes")
    }

    func testRejectsTrailingBytes() throws {
        let url = try write("long", idxBytes(magic: 0x801, dimensions: [3], payload: [1, 2, 3, 9, 9]))
        let message = errorMessage { try IDXReader.readLabels(at: url) }
        XCTAssertEqual(message, "\(url.path): 2 trailing bytes: header implies 11 bytes, file holds 13 bytes")
    }

    func testRejectsTrailingBytesInsideGzip() throws {
        let url = try write("long.gz", gzipped(idxBytes(magic: 0x801, dimensions: [1], payload: [1, 2])))
        let message = errorMessage { try IDXReader.readLabels(at: url) }
        XCTAssertEqual(message, "\(url.path): 1 trailing bytes: header implies 9 bytes, file holds 10 bytes")
    }

    func testRejectsWrongMagic() throws {
        let url = try write("labels-as-images", idxBytes(magic: 0x801, dimensions: [1], payload: [1]))
        let message = errorMessage { try IDXReader.readImages(at: url) }
        XCTAssertEqual(message, "\(url.path): IDX header declares 1 dimensions, expected 3 "
            + "(magic number 0x00000801, expected 0x00000803)")
        let text = try write("text", Data("hello, world".utf8))
        XCTAssertTrue(errorMessage { try IDXReader.readLabels(at: text) }.hasPrefix("\(text.path): not an IDX file"))
    }

    func testRejectsWrongElementType() throws {
        let url = try write("floats", idxBytes(magic: 0xD03, dimensions: [1, 1, 1], payload: [0, 0, 0, 0]))
        XCTAssertTrue(errorMessage { try IDXReader.readImages(at: url) }.contains("magic number 0x00000d03"))
    }

    func testRejectsWrongDimensionCount() throws {
        let url = try write("4d", idxBytes(magic: 0x804, dimensions: [1, 1, 1, 1], payload: [0]))
        let message = errorMessage { try IDXReader.readImages(at: url) }
        XCTAssertEqual(message, "\(url.path): IDX header declares 4 dimensions, expected 3 "
            + "(magic number 0x00000804, expected 0x00000803)")
    }

    func testRejectsZeroDimension() throws {
        let url = try write("empty", idxBytes(magic: 0x803, dimensions: [5, 0, 28], payload: []))
        XCTAssertEqual(errorMessage { try IDXReader.readImages(at: url) }, "\(url.path): IDX header declares dimension 1 as 0")
    }

    func testRefusesHugeDeclaredSizeBeforeAllocating() throws {
        let url = try write("huge", idxBytes(magic: 0x803, dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], payload: [1]))
        let message = errorMessage { try IDXReader.readImages(at: url) }
        XCTAssertEqual(message, "\(url.path): too large: header declares 4294967295x4294967295x4294967295 bytes, "
            + "more than the 1073741824-byte limit")
        let justOver = try write("over", idxBytes(magic: 0x803, dimensions: [1 << 20 + 1, 32, 32], payload: []))
        XCTAssertTrue(errorMessage { try IDXReader.readImages(at: justOver) }.contains("1048577x32x32 bytes, more than the"))
    }

    // A few kilobytes of gzip that would inflate to over the limit: the
    // reader must stop at the limit instead of allocating it all.
    func testRefusesAGzipBomb() throws {
        // 17 concatenated members of 64 MiB of zeros: 1 GiB and a bit.
        let zeros = try gzipped(Data(count: 64 << 20))
        let bomb = (0..<17).reduce(try gzipped(idxBytes(magic: 0x801, dimensions: [1], payload: [7]))) { whole, _ in
            whole + zeros
        }
        XCTAssertLessThan(bomb.count, 2 << 20)
        let url = try write("bomb.gz", bomb)
        XCTAssertEqual(errorMessage { try IDXReader.readLabels(at: url) },
                       "\(url.path): too large: more than the \(IDXReader.maxPayloadBytes + 8)-byte limit of IDX data")
    }

    func testRejectsCorruptGzip() throws {
        var damaged = try Data(contentsOf: sharedMNIST.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        for offset in 100..<200 { damaged[offset] ^= 0x5a }
        let url = try write("damaged.gz", damaged)
        let message = errorMessage { try IDXReader.readLabels(at: url) }
        XCTAssertTrue(message.hasPrefix("\(url.path): corrupt or truncated gzip stream: "), message)
    }

    func testRejectsTruncatedGzip() throws {
        let whole = try Data(contentsOf: sharedMNIST.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        let url = try write("cut.gz", whole.prefix(whole.count / 2))
        XCTAssertEqual(errorMessage { try IDXReader.readLabels(at: url) },
                       "\(url.path): corrupt or truncated gzip stream: stream ends early")
    }

    func testRejectsGarbageAfterGzip() throws {
        var data = try gzipped(idxBytes(magic: 0x801, dimensions: [1], payload: [1]))
        data.append(contentsOf: [0, 1, 2])
        let url = try write("garbage.gz", data)
        XCTAssertEqual(errorMessage { try IDXReader.readLabels(at: url) },
                       "\(url.path): corrupt or truncated gzip stream: 3 bytes of garbage after the gzip stream")
    }

    func testReadsConcatenatedGzipMembers() throws {
        let file = idxBytes(magic: 0x801, dimensions: [4], payload: [1, 2, 3, 4])
        let url = try write("two-members.gz", gzipped(file.prefix(10)) + gzipped(file.dropFirst(10)))
        XCTAssertEqual(try IDXReader.readLabels(at: url).labels, [1, 2, 3, 4])
    }

    func testRejectsMissingFile() {
        let url = folder.appendingPathComponent("nothing-here")
        XCTAssertEqual(errorMessage { try IDXReader.readLabels(at: url) }, "\(url.path): cannot read: no such file")
    }

    private func write(_ name: String, _ data: Data) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }
}
