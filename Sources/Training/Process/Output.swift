import Foundation

/// Where dptrain's words go. Two channels, one for each reader:
/// `people` is for whoever runs the command (the progress line, epoch
/// lines, where the results are: stdout), `log` is the machinery's own
/// account (joins, losses, rejections, resumptions: stderr), with a debug
/// level that adds a line per step, for tests and post-mortems that place
/// events by step.
///
/// The log has three kinds of line: `info` (routine: listening, joined,
/// waiting), `log` (something went wrong or changed the run: always shown,
/// even under --quiet) and `debug`. With `--log-format json` each is one
/// JSON object (`LogRecord`).
public struct Output: Sendable {
    public enum Level: String, CaseIterable, Sendable {
        case info
        case debug
    }

    public enum Format: String, CaseIterable, Sendable {
        case text
        case json
    }

    public var level: Level
    /// --quiet: the log keeps only problems, stdout only the final result.
    public var quiet: Bool
    public var format: Format
    /// How the training loop shows an epoch under way.
    public var progress: ProgressStyle
    private let console: Console

    /// Lines to closures, one call per line, without a newline (tests,
    /// benchmarks): info and problems both go to `log`. `terminal`, when
    /// given, plays a terminal's stdout: it receives the progress line's raw
    /// redraws, control characters and all.
    public init(level: Level = .info, progress: ProgressStyle = .off, people: @escaping @Sendable (String) -> Void,
                log: @escaping @Sendable (String) -> Void, terminal: (@Sendable (String) -> Void)? = nil) {
        self.level = level
        quiet = false
        format = .text
        self.progress = progress
        console = Console(people: people, log: log, terminal: terminal)
    }

    /// stdout for people, stderr for the log. The progress line redraws
    /// itself only when stdout is a terminal; otherwise it is a plain line
    /// every `plainProgressInterval` seconds at most.
    public static func standard(
        level: Level = .info, quiet: Bool = false, format: Format = .text,
        progressInterval: Double? = nil
    ) -> Output {
        let terminal = isatty(STDOUT_FILENO) == 1
        let people: @Sendable (String) -> Void = { line in
            print(line)
            fflush(stdout)
        }
        let log: @Sendable (String) -> Void = { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let redraw: @Sendable (String) -> Void = { text in
            print(text, terminator: "")
            fflush(stdout)
        }
        var output = Output(level: level, people: people, log: log, terminal: terminal ? redraw : nil)
        output.quiet = quiet
        output.format = format
        if quiet {
            output.progress = .off
        } else if terminal {
            output.progress = .terminal(interval: progressInterval ?? ProgressStyle.terminalInterval)
        } else {
            output.progress = .lines(interval: progressInterval ?? ProgressStyle.plainInterval)
        }
        return output
    }

    /// Nothing anywhere (benchmarks, tests).
    public static let silent = Output(people: { _ in }, log: { _ in })

    /// A line for the person running the command (an epoch line); not under --quiet.
    public func people(_ line: String) {
        if !quiet { console.people(line) }
    }

    /// The run's outcome: shown even under --quiet.
    public func result(_ line: String) { console.people(line) }

    /// Something that went wrong or changed the run: always shown.
    public func log(_ line: String) { write(line, level: "warning") }

    /// Routine news (listening, joined, waiting): not under --quiet.
    public func info(_ line: String) {
        if !quiet { write(line, level: "info") }
    }

    /// Built only at the debug level.
    public func debug(_ line: @autoclosure () -> String) {
        if level == .debug { write(line(), level: "debug") }
    }

    /// An epoch's figures: its line for people, and under --log-format json
    /// also a record on the log, for machines that read only the log.
    public func epoch(_ metrics: EpochMetrics) {
        people(metrics.terminalLine)
        if format == .json, !quiet { console.log(LogRecord.epoch(metrics)) }
    }

    /// Draws the progress line: redrawn in place on a terminal (until the
    /// next line of any kind clears it), a plain line otherwise.
    public func progressLine(_ line: String) {
        switch progress {
        case .off: return
        case .terminal: console.redraw(line)
        case .lines: console.people(line)
        }
    }

    /// The terminal's width now (it may have been resized), else $COLUMNS, else 80.
    public var terminalColumns: Int { Console.columns() }

    /// Removes a terminal's progress line, if one is shown.
    public func clearProgress() { console.clear() }

    private func write(_ line: String, level: String) {
        console.log(format == .json ? LogRecord.line(line, level: level) : line)
    }
}

/// How an epoch under way is shown (see ProgressReporter).
public enum ProgressStyle: Equatable, Sendable {
    case off
    /// One line redrawn in place, at most every `interval` seconds.
    case terminal(interval: Double)
    /// A plain line every `interval` seconds at most (CI, files, Slurm).
    case lines(interval: Double)

    /// Often enough to look alive, rarely enough to cost nothing.
    public static let terminalInterval = 0.2
    /// "Every few seconds at most": a log file stays readable.
    public static let plainInterval = 5.0
}

/// Serialises writes from every thread (the ZAP handler logs from its own)
/// and keeps the terminal's progress line out of other lines' way: any line
/// first clears it, so a log line never lands in the middle of the bar.
private final class Console: @unchecked Sendable {
    private let lock = NSLock()
    private let writePeople: @Sendable (String) -> Void
    private let writeLog: @Sendable (String) -> Void
    /// Raw writes to a terminal stdout; nil when stdout is not one.
    private let terminal: (@Sendable (String) -> Void)?
    private var shown = false

    init(people: @escaping @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void,
         terminal: (@Sendable (String) -> Void)?) {
        writePeople = people
        writeLog = log
        self.terminal = terminal
    }

    func people(_ line: String) {
        locked {
            clearLocked()
            writePeople(line)
        }
    }

    func log(_ line: String) {
        locked {
            clearLocked()
            writeLog(line)
        }
    }

    /// Carriage return, the line, erase to the end of the line.
    func redraw(_ line: String) {
        locked {
            guard let terminal else { return writePeople(line) }
            // A line wider than the terminal wraps, and "\r" would then
            // return only to the start of its last row.
            let fitted = line.count < Self.columns() ? line : String(line.prefix(max(Self.columns() - 1, 1)))
            terminal("\r" + fitted + "\u{1B}[K")
            shown = true
        }
    }

    func clear() { locked(clearLocked) }

    /// The terminal's width now (it may have been resized), else $COLUMNS, else 80.
    static func columns() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 80
    }

    private func clearLocked() {
        guard shown, let terminal else { return }
        terminal("\r\u{1B}[K")
        shown = false
    }

    private func locked(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body()
    }
}
