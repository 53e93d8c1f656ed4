import MLP
import XCTest

/// A crafted header must be refused with a one-line reason before any size
/// it declares is trusted.
final class SafetensorsTests: XCTestCase {
    private func file(header: String, data: [UInt8] = []) -> [UInt8] {
        let json = Array(header.utf8)
        var length = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: &length) { Array($0) } + json + data
    }

    func testAShapeWhoseSizeOverflowsIsRefused() {
        // 2^62 × 4 elements of 4 bytes wraps around to 0 in 64 bits, which the empty data would match.
        let bytes = file(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#)
        XCTAssertThrowsError(try Safetensors.decode(bytes, source: "crafted.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("too large"), "\(error)")
        }
    }

    func testAShapeThatDisagreesWithItsBytesIsRefused() {
        let bytes = file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        XCTAssertThrowsError(try Safetensors.decode(bytes, source: "short.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("shape [3] but 8 bytes"), "\(error)")
        }
    }

    func testAWellFormedFileRoundTrips() throws {
        let values: [Float] = [1, -2, 3.5]
        let tensor = values.withUnsafeBufferPointer { Safetensors.Tensor(name: "w", shape: [3], floats: $0) }
        let decoded = try Safetensors.decode(Safetensors(tensors: [tensor], metadata: ["k": "v"]).encoded(), source: "ok")
        XCTAssertEqual(decoded.tensors.first?.data, tensor.data)
        XCTAssertEqual(decoded.metadata["k"], "v")
    }
}
