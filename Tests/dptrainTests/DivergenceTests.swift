import Foundation
import XCTest

/// A learning rate that blows the weights up: every command stops with one
/// clear line and status 1 instead of training on NaNs or hanging, and
/// writes no model. The ring must agree on skipping the step in every
/// member (a member that disagreed would wait forever for a gather).
final class DivergenceTests: XCTestCase {
    func testEveryCollectiveStopsADivergingRunWithOneClearLine() throws {
        for extra in [["train"], ["simulate", "--workers", "2"], ["simulate", "--workers", "2", "--collective", "ring"]] {
            let out = try temporaryFolder()
            let result = try DPTrain.run(extra + [
                "--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--layers", "784,32,10",
                "--epochs", "1", "--batch-size", "64", "--lr", "1e30", "--momentum", "0.9", "--seed", "1",
                "--out", out.path,
            ], timeout: 120)
            XCTAssertEqual(result.status, 1, "\(extra): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("dptrain:") }
            XCTAssertEqual(lines.count, 1, "\(extra): \(result.stderr)")
            XCTAssertTrue(lines.first?.contains("training diverged: non-finite gradient or loss") ?? false, "\(extra): \(lines)")
            XCTAssertTrue(lines.first?.contains("lower --lr") ?? false)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors").path),
                           "\(extra) wrote a model of a diverged run")
        }
    }
}
