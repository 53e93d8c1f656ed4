import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `dptrain` the way a user does. The test bundle sits next
/// to the executable in the build folder; DPTRAIN_BIN overrides that.
enum DPTrain {
    static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["DPTRAIN_BIN"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On macOS the bundle is a folder: .build/debug/X.xctest/Contents/MacOS/X
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("dptrain").path),
              folder.path != "/" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("dptrain")
    }()

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sharedData = repository.deletingLastPathComponent().appendingPathComponent("shared/datasets")
    static let mnist5k = sharedData.appendingPathComponent("mnist-5k").path
    static let mnistTest = sharedData.appendingPathComponent("mnist").path
    static let fashion = "/usr/share/datasets/fashion-mnist"

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Starts dptrain with output captured to files (pipes could fill up and stall it).
    /// `launcher`: a command that execs dptrain in turn (NetworkLab's `ip netns exec ...`).
    static func start(_ arguments: [String], environment: [String: String] = [:], launcher: [String] = []) throws -> Running {
        try Running(arguments: arguments, environment: environment, launcher: launcher)
    }

    static func run(_ arguments: [String], timeout: Double = 300) throws -> Result {
        let running = try start(arguments)
        return try running.wait(timeout: timeout)
    }

    final class Running {
        let process = Process()
        let folder: URL

        init(arguments: [String], environment: [String: String], launcher: [String] = []) throws {
            folder = try temporaryFolder()
            let command = launcher + [DPTrain.executable.path] + arguments
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            FileManager.default.createFile(atPath: folder.appendingPathComponent("out").path, contents: nil)
            FileManager.default.createFile(atPath: folder.appendingPathComponent("err").path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: folder.appendingPathComponent("out"))
            process.standardError = try FileHandle(forWritingTo: folder.appendingPathComponent("err"))
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }
        var stderr: String { (try? String(contentsOf: folder.appendingPathComponent("err"), encoding: .utf8)) ?? "" }
        var stdout: String { (try? String(contentsOf: folder.appendingPathComponent("out"), encoding: .utf8)) ?? "" }

        func signal(_ number: Int32) { kill(pid, number) }

        func wait(timeout: Double) throws -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(pid, SIGKILL)
                process.waitUntilExit()
                XCTFail("dptrain \(process.arguments ?? []) did not finish in \(timeout) s; stderr: \(stderr)")
            }
            process.waitUntilExit()
            return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        }
    }
}

/// A fresh folder under one per-process parent that is removed when the
/// test process exits, so runs leave nothing behind in /tmp.
func temporaryFolder() throws -> URL {
    let url = testScratch.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private let testScratch: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dptrain-tests-\(getpid())")
    atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("dptrain-tests-\(getpid())")) }
    return url
}()

func fileBytes(_ url: URL) -> Data? { FileManager.default.contents(atPath: url.path) }

/// Parses metrics.jsonl into one dictionary per line.
func metrics(in run: URL) throws -> [[String: Any]] {
    let text = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    return try text.split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

/// PIDs of live processes whose parent is `parent` (from /proc).
func children(of parent: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && fields[0] != "Z" && Int32(fields[1]) == parent
    }
}

/// Whether `pid` is still a live (non-zombie) process.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
