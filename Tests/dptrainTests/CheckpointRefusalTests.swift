import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A checkpoint that is damaged, foreign or from another run is refused:
/// exit 2, one line on stderr naming the file, and the file left as it was.
final class CheckpointRefusalTests: XCTestCase {
    /// A run of 784-32-10 stopped by SIGTERM mid-run, with its checkpoint.
    private func stoppedRun() throws -> URL {
        let out = try temporaryFolder()
        let train = try launch(FailureRun.arguments("train", out: out, layers: "784,32,10", extra: ["--checkpoint-every", "10"]))
        waitForEpochs(2, of: train)
        train.signal(SIGTERM)
        let result = try train.wait(timeout: 60)
        XCTAssertEqual(result.status, 143, result.stderr)
        XCTAssertNotNil(fileBytes(out.appendingPathComponent("checkpoint.safetensors")), "SIGTERM left no checkpoint")
        return out
    }

    /// A copy of `run` whose checkpoint has gone through `damage`.
    private func copy(of run: URL, damage: (inout Data) throws -> Void) throws -> URL {
        let copy = try temporaryFolder().appendingPathComponent("run")
        try FileManager.default.copyItem(at: run, to: copy)
        let checkpoint = copy.appendingPathComponent("checkpoint.safetensors")
        var bytes = try XCTUnwrap(fileBytes(checkpoint))
        try damage(&bytes)
        try bytes.write(to: checkpoint)
        return copy
    }

    private func assertResumeRefused(
        _ run: URL, layers: String = "784,32,10", batchSize: Int = FailureRun.batchSize, _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let checkpoint = run.appendingPathComponent("checkpoint.safetensors")
        let before = fileBytes(checkpoint)
        let result = try DPTrain.run(FailureRun.arguments(
            "train", out: run, layers: layers, batchSize: batchSize, extra: ["--checkpoint-every", "10", "--resume", run.path]),
            timeout: 60)
        XCTAssertEqual(result.status, 2, "\(what): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(what): expected one line, got: \(result.stderr)",
                       file: file, line: line)
        XCTAssertTrue(result.stderr.contains(checkpoint.path), "\(what): the file is not named in: \(result.stderr)",
                      file: file, line: line)
        XCTAssertTrue(fileBytes(checkpoint) == before, "\(what): the refused checkpoint was changed", file: file, line: line)
    }

    func testDamagedForeignAndMismatchedCheckpointsAreRefused() throws {
        let run = try stoppedRun()
        let checkpoint = try XCTUnwrap(fileBytes(run.appendingPathComponent("checkpoint.safetensors")))
        let headerLength = Int(checkpoint.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        XCTAssertLessThan(8 + headerLength, checkpoint.count, "the checkpoint holds no tensor data")

        try assertResumeRefused(try copy(of: run) { $0[8 + headerLength + ($0.count - 8 - headerLength) / 2] ^= 0x10 },
                                "a flipped byte in the tensor data")
        try assertResumeRefused(try copy(of: run) { $0[$0.count - 1] ^= 0x01 }, "a flipped bit in the last byte")
        try assertResumeRefused(try copy(of: run) { $0[8 + headerLength / 2] ^= 0x01 }, "a flipped bit in the header")
        try assertResumeRefused(try copy(of: run) { $0 = $0.prefix($0.count / 2) }, "a checkpoint cut in half")
        try assertResumeRefused(try copy(of: run) { $0 = $0.prefix(4) }, "a checkpoint of four bytes")
        try assertResumeRefused(try copy(of: run) { $0 = Data() }, "an empty checkpoint")

        // A finished run's model is a safetensors file too, but not a checkpoint.
        let finished = try temporaryFolder()
        let trained = try DPTrain.run(FailureRun.arguments("train", out: finished, layers: "784,32,10", epochs: 1))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let model = try XCTUnwrap(fileBytes(finished.appendingPathComponent("model.safetensors")))
        try assertResumeRefused(try copy(of: run) { $0 = model }, "a model file in place of the checkpoint")

        try assertResumeRefused(try copy(of: run) { _ in }, layers: "784,64,10", "a checkpoint of another model shape")
        try assertResumeRefused(try copy(of: run) { _ in }, batchSize: 50, "a checkpoint of another batch size")

        // The untouched checkpoint resumes, so the refusals above are about the damage.
        let intact = try copy(of: run) { _ in }
        let resumed = try DPTrain.run(FailureRun.arguments(
            "train", out: intact, layers: "784,32,10", extra: ["--checkpoint-every", "10", "--resume", intact.path]))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertFinished(intact, matches: try FailureRun.reference(layers: "784,32,10"), "intact checkpoint resumed")
    }

    func testADataFileWithAFlippedByteIsRefusedAndLeftAlone() throws {
        let folder = try temporaryFolder()
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
            let bytes = try XCTUnwrap(fileBytes(URL(fileURLWithPath: "\(DPTrain.mnist5k)/\(name)")))
            try bytes.write(to: folder.appendingPathComponent(name))
        }
        let images = folder.appendingPathComponent("train-images-idx3-ubyte.gz")
        var bytes = try XCTUnwrap(fileBytes(images))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: images)

        let out = try temporaryFolder()
        var arguments = FailureRun.arguments("train", out: out, layers: "784,32,10")
        let data = try XCTUnwrap(arguments.firstIndex(of: "--data"))
        arguments[data + 1] = folder.path
        let result = try DPTrain.run(arguments, timeout: 60)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "expected one line, got: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains(images.path), "the file is not named in: \(result.stderr)")
        XCTAssertEqual(fileBytes(images), bytes, "the refused data file was changed")
    }
}
