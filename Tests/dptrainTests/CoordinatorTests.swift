import Foundation
import XCTest

/// A coordinator and workers started separately, as on a real cluster.
final class CoordinatorTests: XCTestCase {
    func testCoordinatorWithSeparateWorkersOverTCPMatchesTrain() throws {
        let trainOut = try temporaryFolder()
        let trained = try DPTrain.run(Fixture.smallRun(out: trainOut, command: "train"))
        XCTAssertEqual(trained.status, 0, trained.stderr)

        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(
            Fixture.smallRun(out: out, command: "coordinator", extra: ["--listen", endpoint, "--workers", "2"]))
        let workers = try (0..<2).map { _ in try DPTrain.start(["worker", "--coordinator", endpoint]) }
        let result = try coordinator.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        for worker in workers {
            XCTAssertEqual(try worker.wait(timeout: 30).status, 0, "a worker did not stop cleanly: \(worker.stderr)")
        }
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")),
                       fileBytes(trainOut.appendingPathComponent("model.safetensors")))
    }

    func testWorkerOfAnotherProtocolVersionIsRefusedOnBothSides() throws {
        let out = try temporaryFolder()
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try DPTrain.start(
            Fixture.smallRun(out: out, command: "coordinator", extra: ["--listen", endpoint, "--workers", "1", "--join-timeout", "60"]))
        let stranger = try DPTrain.run(["worker", "--coordinator", endpoint, "--protocol-version", "99"], timeout: 60)
        XCTAssertEqual(stranger.status, 2)
        XCTAssertTrue(stranger.stderr.contains("refused"), stranger.stderr)
        XCTAssertTrue(stranger.stderr.contains("version 99"), stranger.stderr)
        XCTAssertTrue(coordinator.stderr.contains("version"), coordinator.stderr)

        // The run goes on with a worker that speaks our version.
        let worker = try DPTrain.start(["worker", "--coordinator", endpoint])
        let result = try coordinator.wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        _ = try worker.wait(timeout: 30)
    }
}
