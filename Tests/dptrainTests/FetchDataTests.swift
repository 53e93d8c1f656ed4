import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `fetch-data` end to end, against a real HTTP server on 127.0.0.1.
final class FetchDataTests: XCTestCase {
    private var server: Process?

    override func tearDown() {
        if let server, server.isRunning {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
        }
    }

    /// Serves `folder` and returns the mirror URL once the server answers.
    private func serve(_ folder: URL) throws -> String {
        let port = freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", String(port), "--directory", folder.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        server = process
        let mirror = "http://127.0.0.1:\(port)/"
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? Data(contentsOf: URL(string: mirror)!)) != nil { return mirror }
            usleep(50_000)
        }
        XCTFail("local HTTP server did not start")
        return mirror
    }

    func testACorruptDownloadIsRejectedAndLeavesNoFileBehind() throws {
        let served = try temporaryFolder()
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: "\(DPTrain.mnistTest)/\(name)", toPath: served.appendingPathComponent(name).path)
        }
        // The training files served here are real MNIST digits, but not the
        // published files: their checksums cannot match.
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: "\(DPTrain.mnist5k)/\(name)", toPath: served.appendingPathComponent(name).path)
        }
        let mirror = try serve(served)
        let target = try temporaryFolder()
        let result = try DPTrain.run(["fetch-data", "--dataset", "mnist", "--dir", target.path, "--mirror", mirror], timeout: 120)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("rejected") && result.stderr.contains("train-images-idx3-ubyte.gz"), result.stderr)
        let left = try FileManager.default.contentsOfDirectory(atPath: target.path)
        XCTAssertFalse(left.contains { $0.hasPrefix("train-") || $0.contains("tmp") || $0.hasPrefix(".") }, "left behind: \(left)")
    }

    func testTheGenuineTestFilesDownloadAndVerify() throws {
        let served = try temporaryFolder()
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(atPath: "\(DPTrain.mnistTest)/\(name)", toPath: served.appendingPathComponent(name).path)
        }
        let mirror = try serve(served)
        let target = try temporaryFolder()
        // The train files 404 here, but the published t10k files must arrive intact
        // whichever order the downloader takes them in, or be absent: never half there.
        let result = try DPTrain.run(["fetch-data", "--dataset", "mnist", "--dir", target.path, "--mirror", mirror], timeout: 120)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("404"), result.stderr)
        for name in try FileManager.default.contentsOfDirectory(atPath: target.path) {
            XCTAssertEqual(fileBytes(target.appendingPathComponent(name)),
                           fileBytes(URL(fileURLWithPath: "\(DPTrain.mnistTest)/\(name)")), "\(name) differs from the served file")
        }
    }

    func testBadFlagsExit2() throws {
        let bad = try DPTrain.run(["fetch-data", "--dataset", "mnist", "--mirror", "ftp://example"], timeout: 30)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--mirror"), bad.stderr)
        let missing = try DPTrain.run(["fetch-data"], timeout: 30)
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }
}
