import Foundation
import XCTest

/// A short run of the fuzz benchmark (scripts/bench.sh runs a million
/// cases): hostile messages over real sockets against a training
/// coordinator, a ring member's inbox and a worker, all real dptrain
/// processes. None may die of a signal, and the coordinator's memory stays bounded.
final class FuzzTests: XCTestCase {
    func testHostileTrafficCrashesNothing() throws {
        let bench = DPTrain.executable.deletingLastPathComponent().appendingPathComponent("dptrain-bench")
        guard FileManager.default.fileExists(atPath: bench.path) else { throw XCTSkip("dptrain-bench is not built") }
        guard FileManager.default.fileExists(atPath: DPTrain.fashion) else { throw XCTSkip("Fashion-MNIST is not installed") }
        let folder = try temporaryFolder()
        let process = Process()
        process.executableURL = bench
        process.arguments = ["fuzz", "40000", "11"]
        process.standardOutput = try FileHandle(forWritingTo: {
            let url = folder.appendingPathComponent("out")
            FileManager.default.createFile(atPath: url.path, contents: nil)
            return url
        }())
        let errURL = folder.appendingPathComponent("err")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        let out = (try? String(contentsOf: folder.appendingPathComponent("out"), encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, err)
        XCTAssertTrue(out.contains("\"fuzz_cases\": 40000"), out + err)
        XCTAssertTrue(out.contains("\"fuzz_crashes\": 0"), out + err)
    }
}
