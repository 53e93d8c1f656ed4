import Training
import Crypto
import Foundation
import MLP
import XCTest

final class CheckpointTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("CheckpointTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private var target: URL { folder.appendingPathComponent("checkpoint.safetensors") }

    // MARK: - Round trip and atomic replacement

    func testRoundTripIsBitExact() throws {
        let checkpoint = try tinyCheckpoint()
        try checkpoint.write(to: target)
        let read = try Checkpoint.read(from: target)
        XCTAssertEqual(read, checkpoint)
        XCTAssertEqual(read.weights.map(\.bitPattern), checkpoint.weights.map(\.bitPattern))
        XCTAssertEqual(read.velocity.map(\.bitPattern), checkpoint.velocity.map(\.bitPattern))
        XCTAssertEqual(read.settings, checkpoint.settings)
        XCTAssertEqual(read.progress, checkpoint.progress)
        XCTAssertEqual([read.epoch, read.stepInEpoch, read.globalStep], [2, 3, 33])
        XCTAssertEqual(try bytes(at: target), checkpoint.encoded(), "same checkpoint, same bytes")
    }

    func testEqualityIsBitwiseSoSignedZerosDiffer() throws {
        var a = try tinyCheckpoint()
        var b = a
        a.weights[0] = 0
        b.weights[0] = -0.0
        XCTAssertNotEqual(a, b)
        b.weights[0] = 0
        XCTAssertEqual(a, b)
    }

    func testTheFileIsSafetensorsWithTheDocumentedMetadata() throws {
        let checkpoint = try tinyCheckpoint()
        let file = try Safetensors.decode(checkpoint.encoded(), source: "test")
        XCTAssertEqual(file.tensors.map(\.name), ["weights", "velocity"])
        XCTAssertEqual(file.tensors.map(\.shape), [[17], [17]])
        XCTAssertEqual(file.tensors.map(\.dtype), ["F32", "F32"])
        XCTAssertEqual(file.metadata["dptrain_checkpoint"], "1")
        XCTAssertEqual(file.metadata["layers"], "2,3,2")
        XCTAssertEqual(file.metadata["activation"], "tanh")
        XCTAssertEqual(file.metadata["loss"], "cross-entropy")
        XCTAssertEqual(file.metadata["epoch"], "2")
        XCTAssertEqual(file.metadata["step_in_epoch"], "3")
        XCTAssertEqual(file.metadata["global_step"], "33")
        XCTAssertEqual(file.metadata["setting.batch-size"], "128")
        XCTAssertEqual(file.metadata["progress.loss-sum"], "12.5")
        XCTAssertEqual(file.metadata["sha256"], documentedChecksum(file), "checksum as the comment defines it")
    }

    func testWriteReplacesAnOlderCheckpoint() throws {
        var checkpoint = try tinyCheckpoint()
        try checkpoint.write(to: target)
        checkpoint.globalStep += 1
        checkpoint.stepInEpoch += 1
        checkpoint.weights[5] += 1
        try checkpoint.write(to: target)
        XCTAssertEqual(try Checkpoint.read(from: target), checkpoint)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["checkpoint.safetensors"],
                       "no temporary file left behind")
    }

    /// A crash mid-write leaves a partial temporary file beside the target, never a partial target.
    func testALeftoverTemporaryFileFromACrashDoesNotDisturbReading() throws {
        let old = try tinyCheckpoint()
        let partial = Array(old.encoded().prefix(100))
        let leftover = folder.appendingPathComponent(".checkpoint.safetensors.tmp-999999")
        try Data(partial).write(to: leftover)
        XCTAssertThrowsError(try Checkpoint.read(from: target), "no checkpoint yet: absent, not partial") { error in
            XCTAssertTrue("\(error)".contains("file missing"), "\(error)")
        }
        try old.write(to: target)
        try Data(partial).write(to: leftover)
        XCTAssertEqual(try Checkpoint.read(from: target), old)
        var newer = old
        newer.epoch += 1
        try newer.write(to: target)
        XCTAssertEqual(try Checkpoint.read(from: target), newer)
    }

    // MARK: - Damage

    /// Every bit of a small file flipped, and every byte overwritten with 0xff
    /// or JSON whitespace: each is refused, or lands in the header's padding
    /// and reads back as the identical checkpoint.
    func testEveryByteDamageIsRefusedOrHarmless() throws {
        let checkpoint = try tinyCheckpoint()
        let good = checkpoint.encoded()
        let padding = paddingRange(good)
        XCTAssertFalse(padding.isEmpty, "the test needs a file whose header is padded")
        var refused = 0, harmless = 0
        for position in good.indices {
            var replacements = (0..<8).map { good[position] ^ (1 << $0) }
            replacements += [good[position] ^ 0xff, 0x09, 0x0a, 0x0d, 0x20]
            for value in Set(replacements) where value != good[position] {
                var damaged = good
                damaged[position] = value
                do {
                    let read = try Checkpoint.decode(damaged, source: "damaged")
                    XCTAssertTrue(padding.contains(position), "byte \(position) set to \(value) was accepted")
                    XCTAssertEqual(read, checkpoint, "byte \(position) set to \(value) gave another checkpoint")
                    harmless += 1
                } catch is CheckpointError {
                    refused += 1
                }
            }
        }
        print("CheckpointTests: \(good.count) bytes, \(refused) damaged images refused, \(harmless) harmless (padding)")
        XCTAssertGreaterThan(refused, good.count * 8)
    }

    func testEveryTruncationIsRefused() throws {
        let good = try tinyCheckpoint().encoded()
        for length in 0..<good.count {
            XCTAssertThrowsError(try Checkpoint.decode(Array(good.prefix(length)), source: "cut"), "length \(length)") {
                XCTAssertTrue($0 is CheckpointError, "\($0)")
            }
        }
        for length in [0, 7, 8, 100, good.count / 2, good.count - 1] {
            try Data(good.prefix(length)).write(to: target)
            XCTAssertThrowsError(try Checkpoint.read(from: target)) { XCTAssertTrue($0 is CheckpointError, "\($0)") }
        }
        XCTAssertThrowsError(try Checkpoint.decode(good + [0], source: "long")) { XCTAssertTrue($0 is CheckpointError) }
    }

    func testAModelFileIsNotACheckpoint() throws {
        let checkpoint = try tinyCheckpoint()
        let model = checkpoint.weights.withUnsafeBufferPointer { ModelFile.encode($0, architecture: checkpoint.architecture) }
        try model.encoded().write(to: target)
        assertRefused(target, saying: "not a dptrain checkpoint")
    }

    func testGarbageAFolderAndAMissingFileAreRefused() throws {
        var random = SeededGenerator(seed: 0xC4EC)
        for size in [0, 1, 8, 64, 4096] {
            try (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }.write(to: target)
            assertRefused(target, saying: "not a valid safetensors file")
        }
        try Array("{\"not\": \"safetensors\"}".utf8).write(to: target)
        assertRefused(target, saying: "not a valid safetensors file")
        assertRefused(folder.appendingPathComponent("nothing-here.safetensors"), saying: "file missing")
        assertRefused(folder, saying: "cannot be read")
    }

    func testAnotherFormatVersionIsRefused() throws {
        var file = try Safetensors.decode(tinyCheckpoint().encoded(), source: "test")
        file.metadata["dptrain_checkpoint"] = "2"
        try file.encoded().write(to: target)
        assertRefused(target, saying: "checkpoint format version 2, this dptrain reads version 1")
    }

    func testAChangedValueUnderTheOldChecksumIsRefused() throws {
        var file = try Safetensors.decode(tinyCheckpoint().encoded(), source: "test")
        file.metadata["setting.lr"] = "0.2"
        try file.encoded().write(to: target)
        assertRefused(target, saying: "checksum mismatch")
    }

    func testAMissingChecksumIsRefused() throws {
        var file = try Safetensors.decode(tinyCheckpoint().encoded(), source: "test")
        file.metadata["sha256"] = nil
        try file.encoded().write(to: target)
        assertRefused(target, saying: "no sha256")
    }

    /// Files with a correct checksum but bad contents, as a buggy or hostile
    /// writer could produce: each is refused by name, never trapped on.
    func testWellChecksummedButInvalidContentsAreRefused() throws {
        let good = try Safetensors.decode(tinyCheckpoint().encoded(), source: "test")
        let cases: [(String, (inout Safetensors) -> Void)] = [
            ("epoch is \"-1\"", { $0.metadata["epoch"] = "-1" }),
            ("step_in_epoch is \"x\"", { $0.metadata["step_in_epoch"] = "x" }),
            ("global_step is \"+3\"", { $0.metadata["global_step"] = "+3" }),
            ("global_step is \"99999999999999999999\"", { $0.metadata["global_step"] = "99999999999999999999" }),
            ("no epoch entry", { $0.metadata["epoch"] = nil }),
            ("unknown activation swish", { $0.metadata["activation"] = "swish" }),
            ("lacks layers", { $0.metadata["layers"] = nil }),
            ("layers 2,0,2", { $0.metadata["layers"] = "2,0,2" }),
            ("more parameters than fit", { $0.metadata["layers"] = "4611686018427387904,4611686018427387904" }),
            ("tensor weights is F32 [17], expected F32 [22]", { $0.metadata["layers"] = "2,4,2" }),
            ("unexpected __metadata__ entry \"extra\"", { $0.metadata["extra"] = "1" }),
            ("tensors are [\"velocity\", \"weights\"]", { $0.tensors.swapAt(0, 1) }),
            ("tensors are [\"weights\"]", { $0.tensors.removeLast() }),
            ("tensor velocity is I32", {
                $0.tensors[1] = Safetensors.Tensor(name: "velocity", dtype: "I32", shape: [17], data: $0.tensors[1].data)
            }),
        ]
        for (expected, damage) in cases {
            var file = good
            damage(&file)
            XCTAssertThrowsError(try Checkpoint.decode(forged(file), source: "forged")) { error in
                XCTAssertTrue("\(error)".contains(expected), "expected \"\(expected)\", got: \(error)")
            }
        }
    }

    func testARefusedReadLeavesTheFileUnchanged() throws {
        var damaged = try tinyCheckpoint().encoded()
        damaged[damaged.count - 3] ^= 0x10
        try Data(damaged).write(to: target)
        let before = try FileManager.default.attributesOfItem(atPath: target.path)[.modificationDate] as? Date
        assertRefused(target, saying: "checksum mismatch")
        XCTAssertEqual(try bytes(at: target), damaged)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: target.path)[.modificationDate] as? Date, before)
    }

    // MARK: - Compatibility

    func testCheckCompatibleAcceptsTheSameRun() throws {
        let checkpoint = try tinyCheckpoint()
        XCTAssertNoThrow(try checkpoint.checkCompatible(
            architecture: checkpoint.architecture, settings: checkpoint.settings, source: "RUN/checkpoint.safetensors"))
    }

    func testCheckCompatibleNamesTheFirstDifference() throws {
        let checkpoint = try tinyCheckpoint()
        let source = "RUN/checkpoint.safetensors"
        func refusal(_ architecture: Architecture, _ settings: [String: String]) -> String {
            do {
                try checkpoint.checkCompatible(architecture: architecture, settings: settings, source: source)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let settings = checkpoint.settings
        XCTAssertEqual(refusal(try Architecture(layerSizes: [2, 4, 2], activation: .tanh), settings),
                       "RUN/checkpoint.safetensors: cannot resume: written for --layers 2,3,2, this run has 2,4,2")
        XCTAssertEqual(refusal(try Architecture(layerSizes: [2, 3, 2], activation: .relu), settings),
                       "RUN/checkpoint.safetensors: cannot resume: written for --activation tanh, this run has relu")
        XCTAssertEqual(refusal(try Architecture(layerSizes: [2, 3, 2], activation: .tanh, loss: .meanSquaredError), settings),
                       "RUN/checkpoint.safetensors: cannot resume: written for --loss cross-entropy, this run has mse")
        var other = settings
        other["batch-size"] = "64"
        XCTAssertEqual(refusal(checkpoint.architecture, other),
                       "RUN/checkpoint.safetensors: cannot resume: written with setting batch-size=128, this run has 64")
        other = settings
        other["nesterov"] = "true"
        XCTAssertEqual(refusal(checkpoint.architecture, other),
                       "RUN/checkpoint.safetensors: cannot resume: written without setting nesterov, this run has nesterov=true")
        other = settings
        other["seed"] = nil
        XCTAssertEqual(refusal(checkpoint.architecture, other),
                       "RUN/checkpoint.safetensors: cannot resume: written with setting seed=7, this run does not set seed")
    }

    // MARK: - Helpers

    /// 2-3-2 network: 17 parameters, with values that a lossy round trip would change.
    private func tinyCheckpoint() throws -> Checkpoint {
        let architecture = try Architecture(layerSizes: [2, 3, 2], activation: .tanh)
        var weights: [Float] = [
            -0.0, 0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, .leastNormalMagnitude / 3,
            .greatestFiniteMagnitude, -.infinity, Float(bitPattern: 0x7fc0_1234), 1.0 / 3.0,
        ]
        weights += (0..<7).map { Float($0) * -0.125 }
        let velocity = weights.reversed().map { $0 * 0.5 }
        return Checkpoint(
            architecture: architecture,
            settings: ["seed": "7", "batch-size": "128", "shard-size": "32", "lr": "0.1", "momentum": "0.9"],
            epoch: 2, stepInEpoch: 3, globalStep: 33, weights: weights, velocity: Array(velocity),
            progress: ["loss-sum": "12.5", "correct": "40", "note": "quote \" and é"])
    }

    /// The header's trailing spaces, which the format allows and JSON ignores.
    private func paddingRange(_ bytes: [UInt8]) -> Range<Int> {
        let headerEnd = 8 + bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        let lastBrace = bytes[8..<headerEnd].lastIndex(of: UInt8(ascii: "}"))!
        return (lastBrace + 1)..<headerEnd
    }

    /// The checksum exactly as Checkpoint's comment defines it, computed independently.
    private func documentedChecksum(_ file: Safetensors) -> String {
        var hasher = SHA256()
        func add(_ bytes: [UInt8]) {
            hasher.update(data: (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bytes.count) >> (8 * $0)) })
            hasher.update(data: bytes)
        }
        for tensor in file.tensors {
            add(Array(tensor.name.utf8))
            add(tensor.data)
        }
        for key in file.metadata.keys.filter({ $0 != "sha256" }).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            add(Array(key.utf8))
            add(Array(file.metadata[key]!.utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private func forged(_ file: Safetensors) -> [UInt8] {
        var file = file
        file.metadata["sha256"] = documentedChecksum(file)
        return file.encoded()
    }

    private func bytes(at url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    private func assertRefused(_ url: URL, saying expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Checkpoint.read(from: url), file: file, line: line) { error in
            guard let error = error as? CheckpointError else {
                return XCTFail("not a CheckpointError: \(error)", file: file, line: line)
            }
            XCTAssertEqual(error.file, url.path, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix("\(url.path): cannot resume: "), error.description, file: file, line: line)
            XCTAssertTrue(error.problem.contains(expected), "expected \"\(expected)\" in: \(error)", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "one line", file: file, line: line)
        }
    }
}

private extension Array where Element == UInt8 {
    func write(to url: URL) throws { try Data(self).write(to: url) }
}
