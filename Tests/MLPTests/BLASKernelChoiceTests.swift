import MLP
import XCTest

final class BLASKernelChoiceTests: XCTestCase {
    func testPicksTheWidestKernelsTheFlagsAllow() {
        let avx512: Set<Substring> = ["sse3", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq"]
        XCTAssertEqual(BLASKernelChoice.preferredKernel(cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernelChoice.preferredKernel(cpuFlags: ["sse3", "avx2", "fma", "avx512f"]), "Haswell")
        XCTAssertNil(BLASKernelChoice.preferredKernel(cpuFlags: ["sse3", "avx"]))
    }
}
