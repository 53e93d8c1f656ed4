import Cluster
import XCTest

/// Host lists as Slurm writes them in SLURM_JOB_NODELIST; the examples are
/// those of Slurm's own documentation (scontrol show hostnames, sbatch --nodelist).
final class SlurmNodeListTests: XCTestCase {
    func testDocumentedExamplesExpandInOrder() throws {
        XCTAssertEqual(try SlurmNodeList.expand("lx[15,18,32-33]"), ["lx15", "lx18", "lx32", "lx33"])
        XCTAssertEqual(try SlurmNodeList.expand("tux[2,4-6]"), ["tux2", "tux4", "tux5", "tux6"])
        XCTAssertEqual(try SlurmNodeList.expand("linux[0-3],login"), ["linux0", "linux1", "linux2", "linux3", "login"])
        XCTAssertEqual(try SlurmNodeList.expand("node[01-04,07]"), ["node01", "node02", "node03", "node04", "node07"])
        XCTAssertEqual(try SlurmNodeList.expand("n[8-11]"), ["n8", "n9", "n10", "n11"])
        XCTAssertEqual(try SlurmNodeList.expand("gpu-a100-001"), ["gpu-a100-001"])
    }

    func testSeveralBracketsInOneNameGiveEveryCombination() throws {
        XCTAssertEqual(try SlurmNodeList.expand("rack[1-2]-node[01-02]"),
                       ["rack1-node01", "rack1-node02", "rack2-node01", "rack2-node02"])
    }

    func testMalformedListsAreOneLineErrorsNamingTheVariable() {
        for bad in ["node[1-", "node]1[", "node[3-1]", "node[a-b]", "node[1-2-3]", "a,,b", ""] {
            XCTAssertThrowsError(try SlurmNodeList.expand(bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("SLURM_JOB_NODELIST '\(bad)': "), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}
