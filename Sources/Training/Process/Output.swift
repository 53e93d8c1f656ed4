import Foundation

/// Where dptrain's words go. Two channels, one for each reader:
/// `people` is for whoever runs the command (epoch lines, where the results
/// are: stdout), `log` is the machinery's own account (joins, losses,
/// rejections, resumptions: stderr), with a debug level that adds a line
/// per step, for tests and post-mortems that place events by step.
public struct Output: Sendable {
    public enum Level: String, CaseIterable, Sendable {
        case info
        case debug
    }

    public var level: Level
    private let writePeople: @Sendable (String) -> Void
    private let writeLog: @Sendable (String) -> Void

    public init(level: Level = .info, people: @escaping @Sendable (String) -> Void,
                log: @escaping @Sendable (String) -> Void) {
        self.level = level
        writePeople = people
        writeLog = log
    }

    /// stdout for people, stderr for the log.
    public static func standard(level: Level = .info) -> Output {
        Output(level: level, people: { line in
            print(line)
            fflush(stdout)
        }, log: { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        })
    }

    /// Nothing anywhere (benchmarks, tests).
    public static let silent = Output(people: { _ in }, log: { _ in })

    public func people(_ line: String) { writePeople(line) }

    public func log(_ line: String) { writeLog(line) }

    /// Built only at the debug level.
    public func debug(_ line: @autoclosure () -> String) {
        if level == .debug { writeLog(line()) }
    }
}
