import Datasets
import Foundation
import XCTest

/// zlib counts its input in 32 bits, so a file over 4 GiB is fed to it a
/// piece at a time. The pieces are made tiny here to cross their boundary
/// (inside a member, between two members, in a trailer) with small files.
final class GzipTests: XCTestCase {
    private func inflate(_ data: Data, largestInput: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        try Gzip.inflate(data, file: URL(fileURLWithPath: "/test.gz"), largestInput: largestInput) { out += $0 }
        return out
    }

    func testInputFedInPiecesInflatesToTheSameBytes() throws {
        let first = Data((0..<5_000).map { UInt8(($0 * 7) % 251) })
        let second = Data((0..<3_000).map { UInt8(($0 * 13) % 241) })
        // Two members back to back, as gzip allows.
        let data = try gzipped(first) + gzipped(second)
        let whole = try inflate(data, largestInput: Gzip.largestInput)
        XCTAssertEqual(whole, Array(first + second))
        for piece in [1, 2, 7, 100, 4_096] {
            XCTAssertEqual(try inflate(data, largestInput: piece), whole, "fed \(piece) bytes at a time")
        }
    }

    func testATruncatedStreamIsStillAnErrorWhenFedInPieces() throws {
        let data = try gzipped(Data(repeating: 42, count: 10_000))
        XCTAssertThrowsError(try inflate(data.prefix(data.count - 6), largestInput: 5)) { error in
            XCTAssertTrue("\(error)".contains("ends early"), "\(error)")
        }
    }
}
