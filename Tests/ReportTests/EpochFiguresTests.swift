import XCTest
import Report

final class EpochFiguresTests: XCTestCase {
    private func file(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).jsonl")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testReadsEpochsInOrderAndTheLastLineOfAnEpochWins() throws {
        let line = { (epoch: Int, loss: Double) in
            "{\"epoch\":\(epoch),\"loss\":\(loss),\"train_accuracy\":0.5,\"test_accuracy\":0.6,\"lr\":0.1,\"samples_per_second\":100.0,\"workers\":2,\"elapsed_seconds\":1.5}"
        }
        let figures = try EpochFigures.read(try file([line(2, 0.4), line(1, 0.9), line(2, 0.3)].joined(separator: "\n")))
        XCTAssertEqual(figures.map(\.epoch), [1, 2])
        XCTAssertEqual(figures.map(\.loss), [0.9, 0.3])
        XCTAssertEqual(figures.last?.workers, 2)
        XCTAssertNil(figures.last?.testLoss)
    }

    func testABrokenLineIsNamed() throws {
        let url = try file("{\"epoch\":1}\n")
        XCTAssertThrowsError(try EpochFigures.read(url)) { error in
            XCTAssertEqual("\(error)", "\(url.path): line 1 lacks a number for loss")
        }
        XCTAssertThrowsError(try EpochFigures.read(try file(""))) { error in
            XCTAssertTrue("\(error)".hasSuffix("holds no epoch yet"), "\(error)")
        }
    }
}
