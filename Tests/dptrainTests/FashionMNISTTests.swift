import Foundation
import XCTest

/// Full-size data: 60,000 Fashion-MNIST images through two worker processes.
final class FashionMNISTTests: XCTestCase {
    func testTwoWorkersReachAtLeast85PercentInFiveEpochs() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: DPTrain.fashion),
                          "Fashion-MNIST missing: scripts/setup.sh installs dataset-fashion-mnist")
        let out = try temporaryFolder()
        let result = try DPTrain.run([
            "simulate", "--workers", "2", "--data", DPTrain.fashion, "--layers", "784,128,10",
            "--epochs", "5", "--batch-size", "128", "--lr", "0.1", "--momentum", "0.9", "--lr-decay", "0.95",
            "--seed", "1", "--out", out.path,
        ], timeout: 600)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try metrics(in: out)
        XCTAssertEqual(lines.count, 5)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(lines.last?["test_accuracy"] as? Double), 0.85)
        XCTAssertEqual(lines.last?["workers"] as? Int, 2)
    }
}
