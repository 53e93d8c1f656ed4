import Foundation

/// Finds a named data set on this machine, or downloads it once into the
/// user's cache. Search order: `$DPTRAIN_DATA/NAME`, `CACHE/NAME`,
/// `SYSTEM/NAME`; the first folder holding both splits wins, so a user
/// can shadow a system copy without touching it.
public struct DatasetLocator {
    public let environment: [String: String]
    public let cacheDirectory: URL
    public let systemDirectory: URL

    /// The cache defaults to `$XDG_CACHE_HOME/dptrain`, else `~/.cache/dptrain`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                cacheDirectory: URL? = nil,
                systemDirectory: URL = URL(fileURLWithPath: "/usr/share/datasets")) {
        self.environment = environment
        self.systemDirectory = systemDirectory
        self.cacheDirectory = cacheDirectory ?? Self.defaultCache(environment)
    }

    /// Where `resolve` downloads to and `fetch-data` writes by default.
    public func cacheFolder(for name: DatasetName) -> URL {
        cacheDirectory.appendingPathComponent(name.rawValue, isDirectory: true)
    }

    /// The folders searched, in order.
    public func candidates(for name: DatasetName) -> [URL] {
        var roots: [URL] = []
        if let data = environment["DPTRAIN_DATA"], !data.isEmpty {
            roots.append(URL(fileURLWithPath: data, isDirectory: true))
        }
        roots += [cacheDirectory, systemDirectory]
        return roots.map { $0.appendingPathComponent(name.rawValue, isDirectory: true) }
    }

    public func locate(_ name: DatasetName) -> URL? {
        candidates(for: name).first(where: DatasetFiles.holdsBothSplits)
    }

    /// `locate`, else download from `mirrors` (the data set's defaults
    /// when nil) into the cache folder.
    public func resolve(_ name: DatasetName, mirrors: [URL]? = nil,
                        log: @escaping (String) -> Void = { _ in }) throws -> URL {
        if let found = locate(name) { return found }
        let folder = cacheFolder(for: name)
        log("\(name.rawValue) not found in \(candidates(for: name).map(\.path).joined(separator: ", ")); "
            + "downloading into \(folder.path)")
        let downloader = Downloader(mirrors: mirrors ?? name.defaultMirrors, log: log)
        _ = try downloader.fetch(name.files, into: folder)
        return folder
    }

    private static func defaultCache(_ environment: [String: String]) -> URL {
        // XDG says a relative XDG_CACHE_HOME is invalid and must be ignored.
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("dptrain", isDirectory: true)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/dptrain", isDirectory: true)
    }
}
