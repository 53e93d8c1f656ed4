import Foundation
import Training
import XCTest

/// A file is replaced whole or not at all, whatever was lying in wait in its folder.
final class AtomicFileTests: XCTestCase {
    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testALinkPlantedAtTheTemporaryPathIsNotFollowed() throws {
        let dir = try folder()
        let victim = dir.appendingPathComponent("victim")
        try Data("precious".utf8).write(to: victim)
        let target = dir.appendingPathComponent("checkpoint.safetensors")
        // Where this process will write its temporary file.
        let planted = dir.appendingPathComponent(".checkpoint.safetensors.tmp-\(getpid())")
        try FileManager.default.createSymbolicLink(at: planted, withDestinationURL: victim)
        try AtomicFile.write(Array("new".utf8), to: target)
        XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "precious", "the write went through the link")
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "new")
    }

    func testTemporariesOfDeadProcessesAreRemovedAndLiveOnesKept() throws {
        let dir = try folder()
        let target = dir.appendingPathComponent("model.safetensors")
        // A process id that cannot be running: past the kernel's limit.
        let dead = dir.appendingPathComponent(".model.safetensors.tmp-2147483646")
        let alive = dir.appendingPathComponent(".model.safetensors.tmp-1")
        try Data("half".utf8).write(to: dead)
        try Data("other".utf8).write(to: alive)
        try AtomicFile.write(Array("whole".utf8), to: target)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead.path), "a dead writer's temporary was left behind")
        XCTAssertTrue(FileManager.default.fileExists(atPath: alive.path), "a running process's temporary was removed")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(left, [".model.safetensors.tmp-1", "model.safetensors"])
    }

    func testAFailedWriteLeavesTheOldFileAndNoTemporary() throws {
        let dir = try folder()
        let target = dir.appendingPathComponent("metrics.jsonl")
        try AtomicFile.write(Array("old".utf8), to: target)
        // A folder in the target's place makes the rename fail after the temporary was written.
        let blocked = dir.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked.appendingPathComponent("inside"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.write(Array("new".utf8), to: blocked)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(blocked.path): cannot rename"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "old")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(left, ["blocked", "metrics.jsonl"])
    }
}
