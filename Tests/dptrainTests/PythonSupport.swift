import Foundation
import XCTest

/// python3 scripts the user-facing tests check dptrain's output with: a
/// pseudo-terminal and an HTML parser (the standard library), TensorBoard's
/// own reader and Pillow (PyPI, in PythonEnvironment's venv).
enum Python {
    struct Result {
        let status: Int32
        let stdout: Data
        let stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `script` with `arguments` under `python` (the system's for the
    /// standard library, PythonEnvironment's for PyPI packages); output to
    /// files, as a pipe could fill up.
    static func run(_ script: String, _ arguments: [String] = [], python: String = "python3", timeout: Double = 300) throws -> Result {
        let folder = try temporaryFolder()
        let scriptURL = folder.appendingPathComponent("script.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, scriptURL.path] + arguments
        let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            XCTFail("python3 did not finish in \(timeout) s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: (try? Data(contentsOf: out)) ?? Data(),
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs dptrain on a pseudo-terminal of `columns` columns, as a person
    /// at a terminal would, and returns everything the terminal received
    /// (stdout and stderr together; the terminal turns "\n" into "\r\n").
    static func runOnTerminal(_ arguments: [String], columns: Int = 160) throws -> Result {
        let script = """
        import fcntl, os, pty, struct, sys, termios
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 50, \(columns), 0, 0))
            os.execv(sys.argv[1], sys.argv[1:])
        received = b""
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            received += data
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(received)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
        return try run(script, [DPTrain.executable.path] + arguments)
    }
}

/// What a terminal shows once the redraws are done: each line as it was
/// last drawn. "\r" returns to the line's start, text overwrites, ESC [ K
/// erases from the cursor to the line's end; nothing else is expected.
func visibleLines(_ received: String) -> [String] {
    received.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map { line in
        var shown: [Character] = [], cursor = 0
        var characters = Substring(line)
        while let character = characters.popFirst() {
            if character == "\r" {
                cursor = 0
            } else if character == "\u{1B}", characters.hasPrefix("[K") {
                characters = characters.dropFirst(2)
                shown.removeSubrange(min(cursor, shown.count)...)
            } else {
                if cursor < shown.count { shown[cursor] = character } else { shown.append(character) }
                cursor += 1
            }
        }
        return String(shown)
    }.filter { !$0.isEmpty }
}
