import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `python3 -m http.server` serving a folder on 127.0.0.1, on a port the
/// kernel picks; a real server, so the downloader's real HTTP path runs.
final class LocalHTTPServer {
    let process = Process()
    let baseURL: URL

    init(serving folder: URL) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "0",
                             "--directory", folder.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        do {
            let port = try Self.readPort(output.fileHandleForReading, deadline: Date() + 20)
            baseURL = URL(string: "http://127.0.0.1:\(port)/")!
        } catch {
            process.terminate()
            process.waitUntilExit()
            throw error
        }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// Reads the "Serving HTTP on 127.0.0.1 port N" line, waiting no longer
    /// than `deadline`.
    private static func readPort(_ handle: FileHandle, deadline: Date) throws -> Int {
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 256)
        while Date() < deadline {
            var poller = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = read(handle.fileDescriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            text += String(decoding: buffer[0..<count], as: UTF8.self)
            if let range = text.range(of: #"port (\d+)"#, options: .regularExpression),
               let port = Int(text[range].dropFirst(5)) {
                return port
            }
        }
        throw NSError(domain: "LocalHTTPServer", code: 1,
                      userInfo: [NSLocalizedDescriptionKey: "http.server did not report a port: \(text)"])
    }
}
