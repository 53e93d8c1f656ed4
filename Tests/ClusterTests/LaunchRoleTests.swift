import Cluster
import XCTest

/// Which task this is, from each launcher's variables.
final class LaunchRoleTests: XCTestCase {
    private func role(_ environment: [String: String], host: String = "node01", _ overrides: LaunchOverrides = LaunchOverrides()) throws -> LaunchRole {
        try LaunchRole.read(environment: environment, hostName: host, overrides: overrides)
    }

    private func assertError(_ environment: [String: String], variable: String, host: String = "node01",
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try role(environment, host: host), file: file, line: line) { error in
            XCTAssertEqual((error as? LaunchEnvironmentError)?.variable, variable, "\(error)", file: file, line: line)
        }
    }

    func testTorchrunStyleVariables() throws {
        let read = try role(["RANK": "2", "WORLD_SIZE": "4", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500"])
        XCTAssertEqual(read, LaunchRole(rank: 2, worldSize: 4, coordinatorHost: "10.0.0.1", port: 29500, launcher: "torchrun", jobID: nil))
        XCTAssertEqual(read.workers, 3)
        XCTAssertFalse(read.isCoordinator)
    }

    func testSlurmTakesTheFirstHostOfTheNodeListAndTheJobID() throws {
        let read = try role(["SLURM_PROCID": "0", "SLURM_NTASKS": "3", "SLURM_JOB_NODELIST": "node[07-09]", "SLURM_JOB_ID": "4242"])
        XCTAssertEqual(read, LaunchRole(rank: 0, worldSize: 3, coordinatorHost: "node07", port: nil, launcher: "slurm", jobID: "4242"))
        XCTAssertTrue(read.isCoordinator)
        // A requeued job's run meets in a file of its own, never the run before's.
        let requeued = try role(["SLURM_PROCID": "1", "SLURM_NTASKS": "3", "SLURM_JOB_NODELIST": "n1", "SLURM_JOB_ID": "4242",
                                 "SLURM_RESTART_COUNT": "1"])
        XCTAssertEqual(requeued.jobID, "4242-restart-1")
    }

    func testOpenMPIAndPMIx() throws {
        XCTAssertEqual(try role(["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "3"]).rank, 1)
        XCTAssertEqual(try role(["PMIX_RANK": "2", "OMPI_COMM_WORLD_SIZE": "3"]).rank, 2)
    }

    func testKubernetesIndexedJobAndStatefulSet() throws {
        let indexed = try role(["JOB_COMPLETION_INDEX": "3", "WORLD_SIZE": "4", "MASTER_ADDR": "dptrain-0.dptrain", "MASTER_PORT": "5555"])
        XCTAssertEqual(indexed.launcher, "kubernetes")
        XCTAssertEqual(indexed.rank, 3)
        XCTAssertEqual(indexed.coordinatorHost, "dptrain-0.dptrain")
        let stateful = try role(["STATEFULSET_NAME": "dptrain", "WORLD_SIZE": "4"], host: "dptrain-2")
        XCTAssertEqual(stateful.rank, 2)
    }

    func testTorchrunUnderSrunIsReadAsTorchrun() throws {
        // srun starts one torchrun per node; torchrun's global rank is the one that counts.
        let read = try role(["SLURM_PROCID": "1", "SLURM_NTASKS": "2", "RANK": "5", "WORLD_SIZE": "8"])
        XCTAssertEqual(read.rank, 5)
        XCTAssertEqual(read.worldSize, 8)
    }

    func testFlagsOverrideTheEnvironment() throws {
        let read = try role(["RANK": "1", "WORLD_SIZE": "3", "MASTER_PORT": "1"],
                            LaunchOverrides(rank: 0, worldSize: 5, coordinatorHost: "head", port: 6000))
        XCTAssertEqual(read, LaunchRole(rank: 0, worldSize: 5, coordinatorHost: "head", port: 6000, launcher: "torchrun", jobID: nil))
        XCTAssertEqual(try role([:], LaunchOverrides(rank: 1, worldSize: 2)).launcher, "flags")
    }

    func testIncompleteOrContradictoryEnvironmentsNameTheVariable() {
        assertError(["RANK": "3", "WORLD_SIZE": "3"], variable: "RANK")
        assertError(["RANK": "0"], variable: "WORLD_SIZE")
        assertError(["RANK": "x", "WORLD_SIZE": "2"], variable: "RANK")
        assertError(["RANK": "0", "WORLD_SIZE": "1"], variable: "WORLD_SIZE")
        assertError(["SLURM_PROCID": "0"], variable: "SLURM_NTASKS")
        assertError(["SLURM_PROCID": "4", "SLURM_NTASKS": "4"], variable: "SLURM_PROCID")
        assertError(["OMPI_COMM_WORLD_RANK": "0"], variable: "OMPI_COMM_WORLD_SIZE")
        assertError(["JOB_COMPLETION_INDEX": "0"], variable: "WORLD_SIZE")
        assertError(["RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "70000"], variable: "MASTER_PORT")
        assertError([:], variable: "RANK")
    }
}
