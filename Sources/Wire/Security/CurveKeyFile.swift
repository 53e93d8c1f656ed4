import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Key files on disk. A secret key file (`NAME.key`) and a public key file
/// (`NAME.pub`) each hold one Z85 key on one line; an authorized-keys file
/// holds one public key a line, with `#` comments and blank lines, like
/// ssh's. Reading checks everything before anything is used; a secret key
/// file that others may read is refused, as ssh refuses one.
public enum CurveKeyFile {
    public static func readSecret(_ path: String) throws -> CurveKeyPair {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CurveKeyError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else { throw CurveKeyError.secretTooOpen(path: path, mode: mode) }
        return try CurveKeyPair(secretKey: readOneKey(path))
    }

    public static func readPublic(_ path: String) throws -> CurveKey {
        try readOneKey(path)
    }

    /// `argument` is a key file or the 40-character key itself.
    public static func readPublic(fileOrKey argument: String) throws -> CurveKey {
        if argument.utf8.count == CurveKey.z85Count, !FileManager.default.fileExists(atPath: argument),
           let key = CurveKey(z85: argument) {
            return key
        }
        return try readPublic(argument)
    }

    public static func readAuthorized(_ path: String) throws -> Set<CurveKey> {
        try authorized(text: readText(path), source: path)
    }

    /// An authorized-keys list given as text (an environment variable a
    /// Kubernetes Secret fills); `source` names it in errors.
    public static func authorized(text: String, source: String) throws -> Set<CurveKey> {
        var keys = Set<CurveKey>()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            // A key may be followed by a comment naming its holder, as in ssh.
            let word = String(text.split(separator: " ", maxSplits: 1)[0])
            keys.insert(try parse(word, path: "\(source):\(index + 1)"))
        }
        return keys
    }

    /// One key given as text, as a key file holds it; `source` names it in errors.
    public static func oneKey(text: String, source: String) throws -> CurveKey {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard lines.count == 1 else {
            throw CurveKeyError.malformed(path: source, reason: "holds \(lines.count) keys, expected one Z85 key on one line")
        }
        return try parse(lines[0], path: source)
    }

    private static func readOneKey(_ path: String) throws -> CurveKey {
        try oneKey(text: readText(path), source: path)
    }

    private static func parse(_ text: String, path: String) throws -> CurveKey {
        guard text.utf8.count == CurveKey.z85Count else {
            throw CurveKeyError.malformed(path: path, reason: "a key is \(CurveKey.z85Count) Z85 characters, found \(text.utf8.count)")
        }
        guard let key = CurveKey(z85: text) else { throw CurveKeyError.malformed(path: path, reason: "not a valid Z85 key") }
        return key
    }

    private static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            throw CurveKeyError.unreadable(path: path, reason: reason)
        }
        // Key files are tiny; anything large is not one.
        guard data.count <= 1 << 20, let text = String(data: data, encoding: .utf8) else {
            throw CurveKeyError.malformed(path: path, reason: "not a text key file")
        }
        return text
    }
}

/// A key file or CURVE itself is unusable: bad input, named by path.
public enum CurveKeyError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case secretTooOpen(path: String, mode: mode_t)
    case exists(path: String)
    case curveUnavailable

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .malformed(let path, let reason): return "\(path): \(reason)"
        case .secretTooOpen(let path, let mode):
            return "\(path): secret key readable by others (mode \(String(mode, radix: 8))); chmod 600 it"
        case .exists(let path): return "\(path): exists; pass --force to overwrite"
        case .curveUnavailable: return "this libzmq was built without CURVE (zmq_has(\"curve\") is false)"
        }
    }
}
