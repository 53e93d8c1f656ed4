import Datasets
import XCTest

final class PixelScalingTests: XCTestCase {
    func testNormaliseDividesBy255() {
        let bytes = (0...255).map { UInt8($0) }
        var floats = [Float](repeating: -1, count: bytes.count)
        bytes.withUnsafeBufferPointer { src in
            floats.withUnsafeMutableBufferPointer { PixelScaling.normalise(src, into: $0) }
        }
        for (byte, value) in zip(bytes, floats) {
            XCTAssertEqual(value, Float(Double(byte) / 255))
        }
        XCTAssertEqual(floats.first, 0)
        XCTAssertEqual(floats.last, 1)
    }

    func testGatherCopiesSamplesInPermutationOrder() {
        // Three 1x2 images whose pixels identify them.
        let data = LabeledImages(rows: 1, columns: 2, pixels: [10, 11, 20, 21, 30, 31], labels: [1, 2, 3])
        let order: [Int32] = [2, 0, 1]
        var pixels = [UInt8](repeating: 0, count: 4)
        var labels = [UInt8](repeating: 0, count: 2)
        pixels.withUnsafeMutableBufferPointer { p in
            labels.withUnsafeMutableBufferPointer { l in
                PixelScaling.gather(of: data, positions: 1..<3, order: order, intoPixels: p, intoLabels: l)
            }
        }
        XCTAssertEqual(pixels, [10, 11, 20, 21])
        XCTAssertEqual(labels, [1, 2])
    }

    func testGatherFromTheRealTestSet() throws {
        let data = try DatasetFiles.load(directory: sharedMNIST, split: .test)
        let order = EpochOrder.permutation(count: data.count, seed: 3, epoch: 0)
        var pixels = [UInt8](repeating: 0, count: 5 * data.inputSize)
        var labels = [UInt8](repeating: 0, count: 5)
        pixels.withUnsafeMutableBufferPointer { p in
            labels.withUnsafeMutableBufferPointer { l in
                PixelScaling.gather(of: data, positions: 10..<15, order: order, intoPixels: p, intoLabels: l)
            }
        }
        for slot in 0..<5 {
            let sample = Int(order[10 + slot])
            XCTAssertEqual(labels[slot], data.labels[sample])
            XCTAssertEqual(pixels[slot * 784..<(slot + 1) * 784], data.pixels[sample * 784..<(sample + 1) * 784])
        }
    }
}
