import Foundation
import Training

/// A private temporary folder for `simulate`'s ipc:// socket, removed when
/// the simulation ends. Short, because a Unix socket path has ~100 bytes.
public final class SocketFolder {
    public let path: String

    public init() throws {
        var template = Array("/tmp/dptrain-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw FileWriteError(path: "/tmp/dptrain-XXXXXX", operation: "create a socket folder", code: errno)
        }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
