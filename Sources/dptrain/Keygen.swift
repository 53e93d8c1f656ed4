import ArgumentParser
import Foundation
import Training
import Wire

/// `dptrain keygen`: a CURVE key pair for a coordinator or a worker.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub (public, Z85).",
        discussion: "Give NAME.key to the process it names, with --curve-secret-key; give NAME.pub to its peers: a worker's goes into the coordinator's --authorized-keys file, the coordinator's to every worker's --coordinator-key.")

    @Option(help: "Where to write, as DIR/NAME: DIR/NAME.key and DIR/NAME.pub.")
    var out: String
    @Flag(help: "Overwrite existing key files.")
    var force = false

    func run() throws {
        let secretPath = out + ".key", publicPath = out + ".pub"
        if !force {
            for path in [secretPath, publicPath] where FileManager.default.fileExists(atPath: path) {
                throw CurveKeyError.exists(path: path)
            }
        }
        let folder = URL(fileURLWithPath: out).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw UsageError("--out: \(folder) is not a folder")
        }
        let pair = try CurveKeyPair.generate()
        try AtomicFile.write(Array((pair.secretKey.z85 + "\n").utf8), to: URL(fileURLWithPath: secretPath), mode: 0o600)
        try AtomicFile.write(Array((pair.publicKey.z85 + "\n").utf8), to: URL(fileURLWithPath: publicPath), mode: 0o644)
        print("wrote \(secretPath) (secret, keep it private) and \(publicPath) (public: \(pair.publicKey.z85))")
    }
}
