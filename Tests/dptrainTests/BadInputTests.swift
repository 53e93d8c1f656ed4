import Foundation
import XCTest

/// Bad input: exit 2 and one line on stderr that names the flag or file.
final class BadInputTests: XCTestCase {
    private func assertRefused(_ arguments: [String], mentions needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try DPTrain.run(arguments, timeout: 60)
        XCTAssertEqual(result.status, 2, "stderr: \(result.stderr)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(needle), "'\(needle)' not in: \(result.stderr)", file: file, line: line)
    }

    func testBadFlagsAreRefusedWithOneLine() throws {
        let out = try temporaryFolder().path
        let data = ["--data", DPTrain.mnist5k, "--test-data", DPTrain.mnistTest, "--out", out]
        try assertRefused(["train", "--activation", "swish"] + data, mentions: "--activation")
        try assertRefused(["train", "--layers", "784,abc,10"] + data, mentions: "784,abc,10")
        try assertRefused(["train", "--layers", "784"] + data, mentions: "784")
        try assertRefused(["train", "--batch-size", "0"] + data, mentions: "--batch-size")
        try assertRefused(["train", "--epochs", "x"] + data, mentions: "--epochs")
        try assertRefused(["train", "--dataset", "cifar"], mentions: "cifar")
        try assertRefused(["train", "--lr", "-1"] + data, mentions: "--lr")
        try assertRefused(["simulate", "--workers", "0"] + data, mentions: "--workers")
        try assertRefused(["simulate", "--workers", "2", "--collective", "star"] + data, mentions: "--collective")
        try assertRefused(["train", "--layers", "100,10"] + data, mentions: "784")
        try assertRefused(["worker", "--coordinator", "tcp://127.0.0.1:1", "--rejoin-timeout", "-1"], mentions: "--rejoin-timeout")
        try assertRefused(["launch", "--rank", "1", "--world-size", "2", "--coordinator-host", "127.0.0.1", "--port", "1",
                           "--rejoin-timeout", "-1"], mentions: "--rejoin-timeout")
    }

    func testBadDataFilesAreRefusedNamingTheFile() throws {
        let folder = try temporaryFolder()
        let out = try temporaryFolder().path
        try assertRefused(["train", "--data", folder.appendingPathComponent("nowhere").path, "--out", out], mentions: "nowhere")

        // A training-images file cut short.
        for name in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            let source = name.hasPrefix("t10k") ? DPTrain.mnistTest : DPTrain.mnist5k
            try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: folder.appendingPathComponent(name).path)
        }
        let images = try XCTUnwrap(fileBytes(URL(fileURLWithPath: "\(DPTrain.mnist5k)/train-images-idx3-ubyte.gz")))
        let truncated = folder.appendingPathComponent("train-images-idx3-ubyte.gz")
        try images.prefix(images.count / 2).write(to: truncated)
        try assertRefused(["train", "--data", folder.path, "--out", out], mentions: truncated.path)
    }

    func testCorruptModelIsRefusedByEvaluate() throws {
        let model = try temporaryFolder().appendingPathComponent("model.safetensors")
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9]).write(to: model)
        try assertRefused(["evaluate", "--model", model.path, "--data", DPTrain.mnistTest], mentions: model.path)
    }
}
