import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// What an eavesdropper on the wire sees: tcpdump captures the loopback
/// traffic of a coordinator and a worker over TCP, and the capture is
/// searched for training pixels. In plaintext they are there (so the search
/// works); with CURVE none is.
final class CurveCaptureTests: XCTestCase {
    func testCurveHidesTheTrainingImagesFromACaptureOfTheTraffic() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump") || FileManager.default.isExecutableFile(atPath: "/usr/sbin/tcpdump") else {
            throw XCTSkip("tcpdump is not installed (scripts/setup.sh installs it)")
        }
        let needles = try pixelWindows()
        XCTAssertGreaterThan(needles.count, 10)
        let folder = try temporaryFolder()
        for name in ["coordinator", "worker"] {
            XCTAssertEqual(try DPTrain.run(["keygen", "--out", folder.appendingPathComponent(name).path]).status, 0)
        }
        let coordinatorKey = try String(contentsOf: folder.appendingPathComponent("coordinator.pub"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let secure = (
            coordinator: ["--curve-secret-key", folder.appendingPathComponent("coordinator.key").path,
                          "--authorized-keys", folder.appendingPathComponent("worker.pub").path],
            worker: ["--curve-secret-key", folder.appendingPathComponent("worker.key").path, "--coordinator-key=\(coordinatorKey)"])

        let plain = try capturedRun(coordinatorFlags: [], workerFlags: [])
        let found = needles.filter { plain.range(of: $0) != nil }.count
        XCTAssertGreaterThan(found, needles.count / 2, "the plaintext capture should show the images the run sent")

        let encrypted = try capturedRun(coordinatorFlags: secure.coordinator, workerFlags: secure.worker)
        XCTAssertGreaterThan(encrypted.count, 1_000_000, "the CURVE capture holds too little traffic to mean anything")
        XCTAssertEqual(needles.filter { encrypted.range(of: $0) != nil }.count, 0, "training pixels in clear on the wire under CURVE")
    }

    /// One epoch of coordinator and one worker over tcp://127.0.0.1 under
    /// tcpdump; returns the capture. One epoch sends every training image.
    private func capturedRun(coordinatorFlags: [String], workerFlags: [String]) throws -> Data {
        let port = freePort()
        let capture = try temporaryFolder().appendingPathComponent("lo.pcap")
        let tcpdump = Process()
        tcpdump.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tcpdump.arguments = ["tcpdump", "-i", "lo", "-U", "-w", capture.path, "tcp port \(port)"]
        let errors = Pipe()
        tcpdump.standardError = errors
        tcpdump.standardOutput = FileHandle.nullDevice
        try tcpdump.run()
        let stop = {
            if tcpdump.isRunning { kill(tcpdump.processIdentifier, SIGINT) }
            tcpdump.waitUntilExit()
        }
        addTeardownBlock(stop)
        // Capturing only once it says so.
        var said = Data()
        while !String(decoding: said, as: UTF8.self).contains("listening on") {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else { XCTFail("tcpdump ended: \(String(decoding: said, as: UTF8.self))"); return Data() }
            said += chunk
        }
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(port)"
        let coordinator = try launch(FailureRun.arguments(
            "coordinator", out: out, epochs: 1, extra: ["--listen", endpoint, "--workers", "1"] + coordinatorFlags))
        waitUntil("the coordinator to listen: \(coordinator.stderr)") { coordinator.endpoint != nil }
        let worker = try launch(["worker", "--coordinator", endpoint] + workerFlags)
        let result = try coordinator.wait(timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        _ = try worker.wait(timeout: 30)
        stop()
        return try Data(contentsOf: capture)
    }

    /// From each of mnist-5k's first 50 images, 64 consecutive pixel bytes
    /// (rows 12 to 14, the middle of the digit) with at least 20 non-zero.
    private func pixelWindows() throws -> [Data] {
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-dc", DPTrain.mnist5k + "/train-images-idx3-ubyte.gz"]
        let pipe = Pipe()
        gzip.standardOutput = pipe
        try gzip.run()
        let images = pipe.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        let pixels = 28 * 28
        return (0..<50).compactMap { index in
            let start = 16 + index * pixels + 12 * 28
            let window = images.subdata(in: start..<start + 64)
            return window.filter { $0 != 0 }.count >= 20 ? window : nil
        }
    }
}
