import Cluster
import Foundation
import XCTest

/// A ring neighbour's shared-memory segment is used only if it is this
/// user's, private, and exactly the size expected: anything else could let
/// another user read or forge the ring's traffic.
final class SharedSegmentTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = URL(fileURLWithPath: "/dev/shm").appendingPathComponent("dptrain-test-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func refusal(_ path: String, size: Int) -> String {
        do {
            _ = try SharedSegment.open(path: path, size: size)
            return "opened"
        } catch {
            return "\(error)"
        }
    }

    func testAMadeSegmentIsPrivateSharedAndGoesWithItsMaker() throws {
        let path = folder.appendingPathComponent("a.seg").path
        var maker: SharedSegment? = try SharedSegment.create(path: path, size: 8192)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        let other = try SharedSegment.open(path: path, size: 8192)
        maker!.base.storeBytes(of: 0xfeed_beef as UInt64, as: UInt64.self)
        XCTAssertEqual(other.base.load(as: UInt64.self), 0xfeed_beef, "the two mappings do not share memory")
        XCTAssertThrowsError(try SharedSegment.create(path: path, size: 8192), "made over an existing file")
        maker = nil
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "the maker's file outlived it")
    }

    func testASegmentOfTheWrongSizeIsRefused() throws {
        let path = folder.appendingPathComponent("b.seg").path
        FileManager.default.createFile(atPath: path, contents: Data(count: 4096), attributes: [.posixPermissions: 0o600])
        XCTAssertTrue(refusal(path, size: 8192).contains("is 4096 bytes where 8192 were expected; refused"), refusal(path, size: 8192))
    }

    func testASegmentOthersMayReadIsRefused() throws {
        let path = folder.appendingPathComponent("c.seg").path
        FileManager.default.createFile(atPath: path, contents: Data(count: 4096), attributes: [.posixPermissions: 0o644])
        XCTAssertTrue(refusal(path, size: 4096).contains("others may open it (mode 644); refused"), refusal(path, size: 4096))
    }

    func testASegmentOfAnotherUserIsRefused() throws {
        try XCTSkipUnless(geteuid() == 0, "giving a file to another user needs root")
        let path = folder.appendingPathComponent("d.seg").path
        FileManager.default.createFile(atPath: path, contents: Data(count: 4096), attributes: [.posixPermissions: 0o600])
        XCTAssertEqual(chown(path, 65534, 65534), 0)
        XCTAssertTrue(refusal(path, size: 4096).contains("belongs to user 65534"), refusal(path, size: 4096))
    }

    /// More than /dev/shm holds (a container's is often 64 MB): a clear
    /// error when the segment is made, not a SIGBUS when a page is first touched.
    func testASegmentLargerThanSharedMemoryIsRefusedWhenMade() throws {
        let path = folder.appendingPathComponent("big.seg").path
        XCTAssertThrowsError(try SharedSegment.create(path: path, size: 1 << 42)) { error in
            XCTAssertTrue("\(error)".contains("cannot reserve 4398046511104 bytes"), "\(error)")
            XCTAssertTrue("\(error)".contains("--no-shared-memory"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "a refused segment's file stayed")
    }

    func testASymbolicLinkIsRefused() throws {
        let target = folder.appendingPathComponent("e.seg").path
        FileManager.default.createFile(atPath: target, contents: Data(count: 4096), attributes: [.posixPermissions: 0o600])
        let link = folder.appendingPathComponent("f.seg").path
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertTrue(refusal(link, size: 4096).contains("cannot open"), refusal(link, size: 4096))
    }
}
