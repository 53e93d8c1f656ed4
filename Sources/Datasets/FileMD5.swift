import Crypto
import Foundation

/// MD5 of a file, read in chunks so a large file is never held whole.
/// MD5 only because that is what the data sets publish; it guards against
/// damage, not against an attacker.
enum FileMD5 {
    static func hex(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}
