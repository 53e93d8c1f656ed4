import Datasets
import Foundation
import XCTest

final class DownloaderTests: XCTestCase {
    private var served: URL!
    private var destination: URL!
    private var server: LocalHTTPServer!
    private let testFiles = DatasetName.mnist.files.filter { $0.name.hasPrefix("t10k-") }

    /// Serves `good/` (the real test files, whose md5s are the published
    /// ones) and `bad/` (the same names with damaged contents).
    override func setUpWithError() throws {
        let root = try makeTemporaryFolder(self)
        served = root.appendingPathComponent("served")
        destination = root.appendingPathComponent("cache/mnist")
        for folder in ["good", "bad"] {
            try FileManager.default.createDirectory(at: served.appendingPathComponent(folder),
                                                    withIntermediateDirectories: true)
        }
        for file in testFiles {
            let original = try Data(contentsOf: sharedMNIST.appendingPathComponent(file.name))
            try original.write(to: served.appendingPathComponent("good/\(file.name)"))
            var damaged = original
            damaged[damaged.count / 2] ^= 0xff
            try damaged.write(to: served.appendingPathComponent("bad/\(file.name)"))
        }
        server = try LocalHTTPServer(serving: served)
    }

    override func tearDown() {
        server?.stop()
    }

    private func mirror(_ folder: String) -> URL { server.baseURL.appendingPathComponent(folder + "/") }

    func testDownloadsGoodFilesIntoPlace() throws {
        let outcomes = try Downloader(mirrors: [mirror("good")]).fetch(testFiles, into: destination)
        XCTAssertEqual(outcomes, testFiles.map {
            .downloaded(destination.appendingPathComponent($0.name), from: mirror("good").appendingPathComponent($0.name))
        })
        XCTAssertEqual(try contents(of: destination), testFiles.map(\.name).sorted())
        for file in testFiles {
            XCTAssertEqual(try Data(contentsOf: destination.appendingPathComponent(file.name)),
                           try Data(contentsOf: sharedMNIST.appendingPathComponent(file.name)))
        }
        let data = try DatasetFiles.load(directory: destination, split: .test)
        XCTAssertEqual(data.count, 10_000)
    }

    func testRejectsACorruptDownloadAndLeavesNothing() throws {
        let labels = testFiles.filter { $0.name.hasPrefix("t10k-labels") }
        let url = mirror("bad").appendingPathComponent(labels[0].name)
        let message = errorMessage { try Downloader(mirrors: [mirror("bad")]).fetch(labels, into: destination) }
        XCTAssertTrue(message.hasPrefix("\(destination.appendingPathComponent(labels[0].name).path): "
            + "download from \(url.absoluteString) rejected: md5 "), message)
        XCTAssertTrue(message.hasSuffix(", expected ec29112dd5afa0611ce80d1b7f02629c"), message)
        XCTAssertFalse(message.contains("md5 ec29112dd5afa0611ce80d1b7f02629c"), message)
        XCTAssertEqual(try contents(of: destination), [])
    }

    func testFallsBackToTheNextMirror() throws {
        var log: [String] = []
        let downloader = Downloader(mirrors: [mirror("bad"), mirror("good")]) { log.append($0) }
        let outcomes = try downloader.fetch(testFiles, into: destination)
        XCTAssertEqual(outcomes.map(sourceFolder), ["good", "good"])
        XCTAssertEqual(log.filter { $0.contains("rejected: md5") }.count, 2, "\(log)")
        XCTAssertEqual(try contents(of: destination), testFiles.map(\.name).sorted())
    }

    func testReportsA404() throws {
        let missing = [DatasetFile(name: "absent.gz", byteCount: nil, md5: "00000000000000000000000000000000")]
        let url = mirror("good").appendingPathComponent("absent.gz")
        XCTAssertEqual(errorMessage { try Downloader(mirrors: [mirror("good")]).fetch(missing, into: destination) },
                       "\(url.absoluteString): HTTP status 404, expected 200")
        XCTAssertEqual(try contents(of: destination), [])
    }

    func testEveryMirrorFailingNamesEachFailure() throws {
        let labels = testFiles.filter { $0.name.hasPrefix("t10k-labels") }
        let message = errorMessage {
            try Downloader(mirrors: [mirror("bad"), mirror("nowhere")]).fetch(labels, into: destination)
        }
        XCTAssertTrue(message.hasPrefix("t10k-labels-idx1-ubyte.gz: every mirror failed: "), message)
        XCTAssertTrue(message.contains("rejected: md5"), message)
        XCTAssertTrue(message.contains("HTTP status 404"), message)
        XCTAssertFalse(message.contains("\n"))
    }

    func testRejectsAWrongSize() throws {
        let file = testFiles[1]
        let wrong = [DatasetFile(name: file.name, byteCount: file.byteCount! + 1, md5: file.md5)]
        XCTAssertTrue(errorMessage { try Downloader(mirrors: [mirror("good")]).fetch(wrong, into: destination) }
            .hasSuffix("rejected: \(file.byteCount!) bytes, expected \(file.byteCount! + 1)"))
        XCTAssertEqual(try contents(of: destination), [])
    }

    func testSecondFetchSkipsPresentFiles() throws {
        _ = try Downloader(mirrors: [mirror("good")]).fetch(testFiles, into: destination)
        // With the server's copies gone, only a skip can succeed.
        try FileManager.default.removeItem(at: served.appendingPathComponent("good"))
        let outcomes = try Downloader(mirrors: [mirror("good")]).fetch(testFiles, into: destination)
        XCTAssertEqual(outcomes, testFiles.map { .alreadyPresent(destination.appendingPathComponent($0.name)) })
    }

    func testReplacesAPresentFileWithTheWrongSum() throws {
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        let target = destination.appendingPathComponent(testFiles[1].name)
        try Data("stale".utf8).write(to: target)
        _ = try Downloader(mirrors: [mirror("good")]).fetch([testFiles[1]], into: destination)
        XCTAssertEqual(try Data(contentsOf: target), try Data(contentsOf: sharedMNIST.appendingPathComponent(testFiles[1].name)))
    }

    func testPublishedMNISTSumsMatchTheSharedCopies() throws {
        // No mirror is contacted: both files are present with the right sums.
        let outcomes = try Downloader(mirrors: [URL(string: "http://127.0.0.1:9/")!]).fetch(testFiles, into: sharedMNIST)
        XCTAssertEqual(outcomes, testFiles.map { .alreadyPresent(sharedMNIST.appendingPathComponent($0.name)) })
    }

    private func contents(of folder: URL) throws -> [String] {
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    private func sourceFolder(_ outcome: DownloadOutcome) -> String {
        guard case let .downloaded(_, from) = outcome else { return "present" }
        return from.deletingLastPathComponent().lastPathComponent
    }
}
