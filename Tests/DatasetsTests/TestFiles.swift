import Foundation
import XCTest

/// Where the shared real data sits, from the project's root (the worktree's
/// parent holds `shared/`), with a fallback to the absolute path.
let sharedMNIST: URL = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let relative = root.deletingLastPathComponent().appendingPathComponent("shared/datasets/mnist")
    if FileManager.default.fileExists(atPath: relative.path) { return relative }
    return URL(fileURLWithPath: "/work/shared/datasets/mnist")
}()

/// A fresh folder, removed when the test ends.
func makeTemporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("dptrain-datasets-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// An IDX file's bytes: big-endian magic, dimensions, then the payload.
func idxBytes(magic: UInt32, dimensions: [UInt32], payload: [UInt8]) -> Data {
    var data = Data()
    for word in [magic] + dimensions {
        data.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> $0) })
    }
    data.append(contentsOf: payload)
    return data
}

/// Runs a tool and returns its standard output; the test fails if it does.
func runTool(_ arguments: [String], stdin: Data? = nil) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    let input = Pipe()
    if stdin != nil { process.standardInput = input }
    try process.run()
    if let stdin {
        // Fed from another thread: a large input would otherwise fill the
        // pipe while nobody reads the output.
        DispatchQueue.global().async {
            input.fileHandleForWriting.write(stdin)
            try? input.fileHandleForWriting.close()
        }
    }
    let result = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NSError(domain: "run", code: Int(process.terminationStatus),
                      userInfo: [NSLocalizedDescriptionKey: "\(arguments) failed"])
    }
    return result
}

func gzipped(_ data: Data) throws -> Data { try runTool(["gzip", "-c", "-n"], stdin: data) }
func gunzipped(_ url: URL) throws -> Data { try runTool(["gzip", "-dc", url.path]) }

/// The message of the error `body` throws, or a failure if it throws none.
func errorMessage<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
        return ""
    } catch let error as CustomStringConvertible {
        return error.description
    } catch {
        XCTFail("error \(error) has no description", file: file, line: line)
        return ""
    }
}
