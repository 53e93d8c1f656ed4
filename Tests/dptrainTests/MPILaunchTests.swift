import Foundation
import XCTest

/// `dptrain launch` under a real `mpirun` (Open MPI, installed by
/// scripts/setup.sh), through the launch file users copy: 3 ranks on this
/// machine, the model `train`'s bytes.
final class MPILaunchTests: XCTestCase {
    func testThreeRanksUnderMpirunTrainToTrainsBytes() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun") else {
            throw XCTSkip("mpirun is not installed (scripts/setup.sh installs openmpi-bin)")
        }
        let reference = try FailureRun.reference(epochs: 2)
        let folder = try temporaryFolder()
        let hostfile = folder.appendingPathComponent("hosts")
        try "localhost slots=3\n".write(to: hostfile, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run")
        let port = freePort()
        let script = DPTrain.repository.appendingPathComponent("cluster/mpi/run.sh")
        let process = Process()
        process.executableURL = script
        process.arguments = [hostfile.path, "3"] + Array(FailureRun.arguments("launch", out: out, epochs: 2).dropFirst())
            + ["--listen", "tcp://127.0.0.1:\(port)"]
        var environment = ProcessInfo.processInfo.environment
        environment["DPTRAIN"] = DPTrain.executable.path
        environment["MASTER_ADDR"] = "127.0.0.1"
        environment["MASTER_PORT"] = String(port)
        environment["MPIRUN_FLAGS"] = "--oversubscribe" + (getuid() == 0 ? " --allow-run-as-root" : "")
        process.environment = environment
        let log = folder.appendingPathComponent("log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, text)
        for rank in 0..<3 { XCTAssertTrue(text.contains("launch: openmpi rank \(rank) of 3"), text) }
        XCTAssertEqual(fileBytes(out.appendingPathComponent("model.safetensors")), reference, text)
    }
}
