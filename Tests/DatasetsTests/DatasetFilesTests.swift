import Datasets
import Foundation
import XCTest

final class DatasetFilesTests: XCTestCase {
    func testLoadsTheTestSplit() throws {
        let data = try DatasetFiles.load(directory: sharedMNIST, split: .test)
        XCTAssertEqual(data.count, 10_000)
        XCTAssertEqual([data.rows, data.columns, data.inputSize], [28, 28, 784])
        XCTAssertEqual(data.pixels.count, 10_000 * 784)
        XCTAssertEqual(data.labels[0], 7)
    }

    func testPrefersTheRawFileAndFallsBackToGzip() throws {
        let folder = try makeTemporaryFolder(self)
        let labels = idxBytes(magic: 0x801, dimensions: [2], payload: [3, 4])
        try gzipped(idxBytes(magic: 0x803, dimensions: [2, 1, 1], payload: [5, 6]))
            .write(to: folder.appendingPathComponent("train-images-idx3-ubyte.gz"))
        try labels.write(to: folder.appendingPathComponent("train-labels-idx1-ubyte"))
        try gzipped(idxBytes(magic: 0x801, dimensions: [1], payload: [9]))
            .write(to: folder.appendingPathComponent("train-labels-idx1-ubyte.gz"))
        let data = try DatasetFiles.load(directory: folder, split: .train)
        XCTAssertEqual(data.pixels, [5, 6])
        XCTAssertEqual(data.labels, [3, 4])
    }

    func testRejectsDisagreeingCounts() throws {
        let folder = try makeTemporaryFolder(self)
        let images = folder.appendingPathComponent("t10k-images-idx3-ubyte.gz")
        let labels = folder.appendingPathComponent("t10k-labels-idx1-ubyte")
        try FileManager.default.copyItem(at: sharedMNIST.appendingPathComponent("t10k-images-idx3-ubyte.gz"), to: images)
        try idxBytes(magic: 0x801, dimensions: [9_999], payload: [UInt8](repeating: 1, count: 9_999)).write(to: labels)
        XCTAssertEqual(errorMessage { try DatasetFiles.load(directory: folder, split: .test) },
                       "\(images.path) holds 10000 images but \(labels.path) holds 9999 labels")
    }

    func testRejectsAMissingFile() throws {
        XCTAssertEqual(errorMessage { try DatasetFiles.load(directory: sharedMNIST, split: .train) },
                       "\(sharedMNIST.path): missing train-images-idx3-ubyte or train-images-idx3-ubyte.gz")
    }

    func testRejectsAMissingFolder() throws {
        let folder = try makeTemporaryFolder(self).appendingPathComponent("absent")
        XCTAssertEqual(errorMessage { try DatasetFiles.load(directory: folder, split: .test) },
                       "\(folder.path): no such data folder")
    }

    func testReportsTheBadFileInsideAFolder() throws {
        let folder = try makeTemporaryFolder(self)
        let images = folder.appendingPathComponent("t10k-images-idx3-ubyte")
        try idxBytes(magic: 0x803, dimensions: [1, 2, 2], payload: [1]).write(to: images)
        try idxBytes(magic: 0x801, dimensions: [1], payload: [1]).write(to: folder.appendingPathComponent("t10k-labels-idx1-ubyte"))
        XCTAssertEqual(errorMessage { try DatasetFiles.load(directory: folder, split: .test) },
                       "\(images.path): truncated: header implies 20 bytes, file holds 17 bytes")
    }
}
