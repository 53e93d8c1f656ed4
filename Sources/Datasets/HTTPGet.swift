import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A blocking HTTP GET: the downloader runs once, before training, from a
/// command-line tool with nothing else to do meanwhile.
struct HTTPGet {
    let session: URLSession

    init(timeout: TimeInterval) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: configuration)
    }

    func invalidate() { session.invalidateAndCancel() }

    /// The body of a 200 response; any other status is an error.
    func body(of url: URL) throws -> Data {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: url) { data, response, error in
            outcome.set(data: data, response: response, error: error)
            done.signal()
        }.resume()
        done.wait()
        return try outcome.result(for: url)
    }
}

/// Carries the completion handler's values back to the waiting thread; the
/// semaphore orders the write before the read.
private final class Outcome: @unchecked Sendable {
    private var data: Data?
    private var response: URLResponse?
    private var error: Error?

    func set(data: Data?, response: URLResponse?, error: Error?) {
        self.data = data
        self.response = response
        self.error = error
    }

    func result(for url: URL) throws -> Data {
        if let error { throw DownloadError.transport(url, reason: error.localizedDescription) }
        guard let http = response as? HTTPURLResponse else {
            throw DownloadError.transport(url, reason: "no HTTP response")
        }
        guard http.statusCode == 200 else { throw DownloadError.httpStatus(url, status: http.statusCode) }
        return data ?? Data()
    }
}
