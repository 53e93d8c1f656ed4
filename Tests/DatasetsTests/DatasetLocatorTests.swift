import Datasets
import Foundation
import XCTest

final class DatasetLocatorTests: XCTestCase {
    private var root: URL!
    private var locator: DatasetLocator!

    override func setUpWithError() throws {
        root = try makeTemporaryFolder(self)
        locator = DatasetLocator(environment: ["DPTRAIN_DATA": root.appendingPathComponent("env").path],
                                 cacheDirectory: root.appendingPathComponent("cache"),
                                 systemDirectory: root.appendingPathComponent("system"))
    }

    func testSearchOrderIsEnvironmentThenCacheThenSystem() throws {
        XCTAssertNil(locator.locate(.mnist))
        try fill("system/mnist")
        XCTAssertEqual(locator.locate(.mnist)?.path, root.appendingPathComponent("system/mnist").path)
        try fill("cache/mnist")
        XCTAssertEqual(locator.locate(.mnist)?.path, root.appendingPathComponent("cache/mnist").path)
        try fill("env/mnist")
        XCTAssertEqual(locator.locate(.mnist)?.path, root.appendingPathComponent("env/mnist").path)
        XCTAssertNil(locator.locate(.fashionMNIST))
    }

    func testSkipsAFolderMissingAFile() throws {
        try fill("env/fashion-mnist", leaving: "t10k-labels-idx1-ubyte.gz")
        try fill("system/fashion-mnist", gzipped: false)
        XCTAssertEqual(locator.locate(.fashionMNIST)?.path, root.appendingPathComponent("system/fashion-mnist").path)
    }

    func testWithoutTheVariableStartsAtTheCache() throws {
        let plain = DatasetLocator(environment: [:], cacheDirectory: root.appendingPathComponent("cache"),
                                   systemDirectory: root.appendingPathComponent("system"))
        XCTAssertEqual(plain.candidates(for: .mnist).map(\.path),
                       ["cache/mnist", "system/mnist"].map { root.appendingPathComponent($0).path })
    }

    func testDefaultCacheFollowsXDGThenHome() {
        let xdg = DatasetLocator(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"])
        XCTAssertEqual(xdg.cacheFolder(for: .mnist).path, "/x/cache/dptrain/mnist")
        let home = DatasetLocator(environment: ["HOME": "/home/u"])
        XCTAssertEqual(home.cacheFolder(for: .fashionMNIST).path, "/home/u/.cache/dptrain/fashion-mnist")
        let relativeXDG = DatasetLocator(environment: ["XDG_CACHE_HOME": "rel", "HOME": "/home/u"])
        XCTAssertEqual(relativeXDG.cacheDirectory.path, "/home/u/.cache/dptrain")
        XCTAssertEqual(DatasetLocator(environment: [:]).systemDirectory.path, "/usr/share/datasets")
    }

    func testResolveReturnsAFoundFolderWithoutDownloading() throws {
        try fill("system/mnist")
        var log: [String] = []
        let found = try locator.resolve(.mnist, mirrors: [URL(string: "http://127.0.0.1:9/")!]) { log.append($0) }
        XCTAssertEqual(found.path, root.appendingPathComponent("system/mnist").path)
        XCTAssertEqual(log, [])
    }

    func testResolveDownloadsIntoTheCache() throws {
        let served = root.appendingPathComponent("served")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        let server = try LocalHTTPServer(serving: served)
        defer { server.stop() }
        // Only the test split can exist here, so the download fails on the
        // first training file; the point is where it looked and wrote.
        var log: [String] = []
        let message = errorMessage { try locator.resolve(.mnist, mirrors: [server.baseURL]) { log.append($0) } }
        XCTAssertEqual(message, "\(server.baseURL.absoluteString)train-images-idx3-ubyte.gz: HTTP status 404, expected 200")
        XCTAssertTrue(log.first?.hasSuffix("downloading into \(root.appendingPathComponent("cache/mnist").path)") ?? false,
                      "\(log)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("cache/mnist").path))
    }

    func testTheSystemFashionMNISTIsFoundAndLoads() throws {
        let system = DatasetLocator(environment: [:], cacheDirectory: root.appendingPathComponent("cache"))
        let folder = try XCTUnwrap(system.locate(.fashionMNIST), "dataset-fashion-mnist is not installed")
        let test = try DatasetFiles.load(directory: folder, split: .test)
        XCTAssertEqual([test.count, test.rows, test.columns], [10_000, 28, 28])
        XCTAssertLessThanOrEqual(test.labels.max() ?? 0, 9)
    }

    /// Creates the four files a folder must hold (contents do not matter
    /// to the search), leaving out `missing`.
    private func fill(_ path: String, gzipped: Bool = true, leaving missing: String? = nil) throws {
        let folder = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for split in ["train", "t10k"] {
            for kind in ["images-idx3-ubyte", "labels-idx1-ubyte"] {
                let name = "\(split)-\(kind)" + (gzipped ? ".gz" : "")
                if name != missing { try Data().write(to: folder.appendingPathComponent(name)) }
            }
        }
    }
}
