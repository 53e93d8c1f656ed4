import Clock
import Foundation
import Training

/// Where rank 0 of a launched job tells the others its endpoint when the
/// launcher gives no address: a file in the run directory, which a cluster
/// shares between its hosts (as llm.c's `fs` init does). Written
/// atomically, so a reader sees the whole endpoint or nothing; named after
/// the job when the launcher has an id, so a file left by another job is
/// never taken for this one's.
public struct Rendezvous {
    public let file: URL

    public init(folder: URL, jobID: String?) {
        let safe = jobID.map { String($0.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }) }
        file = folder.appendingPathComponent(safe.map { "rendezvous-\($0)" } ?? "rendezvous")
    }

    /// Removes an earlier run's file before this one publishes.
    public func clear() { try? FileManager.default.removeItem(at: file) }

    public func publish(_ endpoint: String) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(Array((endpoint + "\n").utf8), to: file)
    }

    /// The endpoint, once rank 0 has published it; nil after `seconds`.
    public func wait(seconds: Double) -> String? {
        let deadline = Deadline(seconds: seconds)
        repeat {
            if let text = try? String(contentsOf: file, encoding: .utf8) {
                let endpoint = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if endpoint.hasPrefix("tcp://") { return endpoint }
            }
            usleep(50_000)
        } while !deadline.hasPassed
        return nil
    }
}
