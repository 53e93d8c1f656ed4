import ArgumentParser
import Datasets
import Foundation

/// `dptrain fetch-data`: a data set into the cache or a folder, verified.
struct FetchData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-data",
        abstract: "Download a data set and check it against its published md5 sums.",
        discussion: """
            Files already present with the right sum are kept. Each download lands under its \
            final name only once complete and verified.

              $ dptrain fetch-data --dataset mnist
              $ dptrain fetch-data --dataset fashion-mnist --dir data/fashion --mirror http://127.0.0.1:8000/
            """)

    @Option(help: "mnist or fashion-mnist.")
    var dataset: String

    @Option(help: "Folder to download into (default: the dptrain cache folder for the data set).")
    var dir: String?

    @Option(help: "Base URL to download from, instead of the data set's default mirrors.")
    var mirror: String?

    func run() throws {
        let name = try datasetName()
        let mirrors = try mirror.map { [try mirrorURL($0)] } ?? name.defaultMirrors
        let folder = try destination(for: name)
        let downloader = Downloader(mirrors: mirrors) { print($0) }
        do {
            for outcome in try downloader.fetch(name.files, into: folder) {
                switch outcome {
                case let .alreadyPresent(file):
                    print("\(file.lastPathComponent): already present, md5 ok")
                case let .downloaded(file, source):
                    print("\(file.lastPathComponent): downloaded from \(source.absoluteString), md5 ok")
                }
            }
        } catch let error as DownloadError {
            FileHandle.standardError.write(Data("dptrain: fetch-data: \(error)\n".utf8))
            throw ExitCode.failure
        }
        print("\(name.rawValue) is in \(folder.path)")
    }

    private func datasetName() throws -> DatasetName {
        guard let name = DatasetName(rawValue: dataset) else {
            let known = DatasetName.allCases.map(\.rawValue).joined(separator: ", ")
            throw badUsage("--dataset", "'\(dataset)' is not one of \(known)")
        }
        return name
    }

    private func mirrorURL(_ text: String) throws -> URL {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased()), url.host != nil else {
            throw badUsage("--mirror", "'\(text)' is not an http or https URL")
        }
        return url
    }

    private func destination(for name: DatasetName) throws -> URL {
        guard let dir else { return DatasetLocator().cacheFolder(for: name) }
        guard !dir.isEmpty else { throw badUsage("--dir", "must not be empty") }
        return URL(fileURLWithPath: dir, isDirectory: true)
    }

    /// Bad usage exits with status 2, as the whole command line does,
    /// rather than ArgumentParser's 64.
    private func badUsage(_ flag: String, _ problem: String) -> ExitCode {
        FileHandle.standardError.write(Data("dptrain: \(flag): \(problem)\n".utf8))
        return ExitCode(2)
    }
}
