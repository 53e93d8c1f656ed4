import Foundation
import Training
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A disk that fills up mid-run: the checkpoint that was there survives
/// whole, the run stops with one line saying which file and why, nothing
/// half-written is left, and resuming from the survivor on a disk with room
/// gives the undisturbed run's bytes. The disk is a tmpfs of its own,
/// mounted and unmounted by this test (root only; skipped otherwise).
final class FullDiskTests: XCTestCase {
    /// 784-64-10's checkpoint is about 409 kB: one fits, a second beside it does not.
    private let diskBytes = 600 * 1024

    private func mountSmallDisk() throws -> URL {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let mountPoint = try temporaryFolder()
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(diskBytes)", "tmpfs", mountPoint.path]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw XCTSkip("cannot mount a tmpfs here (status \(mount.terminationStatus))") }
        addTeardownBlock {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = ["-l", mountPoint.path]
            try? unmount.run()
            unmount.waitUntilExit()
        }
        return mountPoint
    }

    func testAFullDiskKeepsTheLastCheckpointAndSaysSoInOneLine() throws {
        let reference = try FailureRun.reference(epochs: 4)
        let disk = try mountSmallDisk()
        let out = disk.appendingPathComponent("run")
        let result = try DPTrain.run(FailureRun.arguments("train", out: out, epochs: 4))
        XCTAssertEqual(result.status, 1, result.stderr)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "more than one line for a full disk: \(result.stderr)")
        XCTAssertTrue(lines.first?.contains("checkpoint.safetensors: cannot write") == true, result.stderr)
        XCTAssertTrue(lines.first?.contains("No space left on device") == true, result.stderr)

        let survivor = try Checkpoint.read(from: out.appendingPathComponent("checkpoint.safetensors"))
        XCTAssertEqual(survivor.epoch, 1, "the first epoch's checkpoint should be the one that survived")
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        // run.json and the TensorBoard folder are written whole before the disk fills.
        XCTAssertEqual(left, ["checkpoint.safetensors", "metrics.jsonl", "run.json", "tensorboard"],
                       "something half-written was left behind")

        // The survivor resumes, on a disk with room, to the undisturbed run's bytes.
        let roomy = try temporaryFolder().appendingPathComponent("run")
        try FileManager.default.copyItem(at: out, to: roomy)
        let resumed = try DPTrain.run(FailureRun.arguments("train", out: roomy, epochs: 4) + ["--resume", roomy.path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(fileBytes(roomy.appendingPathComponent("model.safetensors")), reference)
    }
}
