import Crypto
import Foundation
import MLP

/// Everything needed to resume a run where it stopped: `RUN/checkpoint.safetensors`.
///
/// There is no separate RNG or data-order state to save. Data order is a pure
/// function of (seed, epoch), `EpochOrder.permutation`, and the seeded weight
/// initialisation only runs before the first step, so the seed (one of the
/// `settings`), `epoch` and `stepInEpoch` *are* the data-order state: a resumed
/// run recomputes the epoch's permutation and skips the steps already applied.
///
/// Equality is bit-for-bit on the Float buffers (so -0 differs from +0 and a
/// NaN equals the same NaN): a resumed run must continue from exactly these bits.
public struct Checkpoint: Equatable {
    public static let formatVersion = 1

    public var architecture: Architecture
    /// Everything that fixes the result (seed, batch size, shard size, learning rate, ...),
    /// as the caller names it; a resume refuses any difference.
    public var settings: [String: String]
    /// The 0-based epoch the run is in.
    public var epoch: Int
    /// Steps of `epoch` already applied.
    public var stepInEpoch: Int
    public var globalStep: Int
    public var weights: [Float]
    /// The optimiser's state: SGD's momentum buffer, one value per parameter
    /// (tensor `velocity`), or Adam's first moments then its second moments,
    /// two per parameter (tensors `adam_m` and `adam_v`).
    public var velocity: [Float]
    /// Extras the training loop wants back (running sums and the like); never compared on resume.
    public var progress: [String: String]

    public init(
        architecture: Architecture, settings: [String: String], epoch: Int, stepInEpoch: Int, globalStep: Int,
        weights: [Float], velocity: [Float], progress: [String: String] = [:]
    ) {
        self.architecture = architecture
        self.settings = settings
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.globalStep = globalStep
        self.weights = weights
        self.velocity = velocity
        self.progress = progress
    }

    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.architecture == b.architecture && a.settings == b.settings && a.epoch == b.epoch
            && a.stepInEpoch == b.stepInEpoch && a.globalStep == b.globalStep && a.progress == b.progress
            && a.weights.map(\.bitPattern) == b.weights.map(\.bitPattern)
            && a.velocity.map(\.bitPattern) == b.velocity.map(\.bitPattern)
    }

    // MARK: - Writing

    /// Replaces `url` atomically: a crash leaves the previous checkpoint or this one, never a mixture.
    public func write(to url: URL) throws {
        try AtomicFile.write(encoded(), to: url)
    }

    /// The file's bytes. The same checkpoint always gives the same bytes.
    public func encoded() -> [UInt8] {
        // A mismatch here is a bug in the caller, not bad input.
        let count = architecture.parameterCount
        precondition(weights.count == count && (velocity.count == count || velocity.count == 2 * count),
                     "checkpoint buffers do not match the architecture's \(count) parameters")
        precondition(epoch >= 0 && stepInEpoch >= 0 && globalStep >= 0, "checkpoint counters must be non-negative")
        let shape = [architecture.parameterCount]
        let stateNames = velocity.count == count ? [Key.velocity] : Key.adamMoments
        let tensors = [weights.withUnsafeBufferPointer { Safetensors.Tensor(name: Key.weights, shape: shape, floats: $0) }]
            + stateNames.enumerated().map { plane, name in
                velocity.withUnsafeBufferPointer {
                    Safetensors.Tensor(name: name, shape: shape, floats: UnsafeBufferPointer(rebasing: $0[(plane * count)..<((plane + 1) * count)]))
                }
            }
        // ModelFile's keys (layers, activation, loss, format "pt") keep the file loadable by safetensors tools.
        var metadata = ModelFile.metadata(architecture)
        metadata[Key.version] = String(Self.formatVersion)
        metadata[Key.epoch] = String(epoch)
        metadata[Key.stepInEpoch] = String(stepInEpoch)
        metadata[Key.globalStep] = String(globalStep)
        for (name, value) in settings { metadata[Key.setting + name] = value }
        for (name, value) in progress { metadata[Key.progress + name] = value }
        metadata[Key.checksum] = Self.checksum(tensors: tensors, metadata: metadata)
        return Safetensors(tensors: tensors, metadata: metadata).encoded()
    }

    // MARK: - Reading

    /// Reads and verifies a checkpoint, without modifying the file.
    public static func read(from url: URL) throws -> Checkpoint {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError(file: path, problem: "no checkpoint there (file missing)")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(file: path, problem: "cannot be read (a folder, or not readable)")
        }
        return try decode([UInt8](data), source: path)
    }

    /// Checks a whole file image; `source` names the file in errors. Only the
    /// format version is read before the checksum (it fixes what the checksum
    /// covers); every other value is trusted only after it, so a damaged file is
    /// refused as damaged rather than as whatever its damage happens to look like.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Checkpoint {
        func refuse(_ problem: String) -> CheckpointError { CheckpointError(file: source, problem: problem) }
        let file: Safetensors
        do {
            file = try Safetensors.decode(bytes, source: source)
        } catch let error as SafetensorsError {
            throw refuse("not a valid safetensors file: \(error.problem)")
        }
        let metadata = file.metadata
        guard let version = metadata[Key.version] else {
            throw refuse("not a dptrain checkpoint (no \(Key.version) entry in __metadata__)")
        }
        guard version == String(formatVersion) else {
            throw refuse("checkpoint format version \(version), this dptrain reads version \(formatVersion)")
        }
        guard let recorded = metadata[Key.checksum] else { throw refuse("no \(Key.checksum) entry in __metadata__") }
        guard recorded == checksum(tensors: file.tensors, metadata: metadata) else {
            throw refuse("checksum mismatch: the file is damaged")
        }
        if let stranger = metadata.keys.sorted().first(where: { !Key.isKnown($0) }) {
            throw refuse("unexpected __metadata__ entry \"\(stranger)\"")
        }
        let architecture = try readArchitecture(metadata, refuse)
        let (weights, velocity) = try readBuffers(file.tensors, architecture: architecture, refuse)
        func counter(_ key: String) throws -> Int {
            guard let text = metadata[key] else { throw refuse("no \(key) entry in __metadata__") }
            // Only the writer's own spelling: no sign, no leading zeros, no spaces.
            guard let value = Int(text), value >= 0, String(value) == text else {
                throw refuse("\(key) is \"\(text)\", not a non-negative whole number")
            }
            return value
        }
        return Checkpoint(
            architecture: architecture, settings: strippingPrefix(Key.setting, metadata),
            epoch: try counter(Key.epoch), stepInEpoch: try counter(Key.stepInEpoch),
            globalStep: try counter(Key.globalStep), weights: weights, velocity: velocity,
            progress: strippingPrefix(Key.progress, metadata))
    }

    private static func readArchitecture(
        _ metadata: [String: String], _ refuse: (String) -> CheckpointError
    ) throws -> Architecture {
        guard let layers = metadata["layers"], let activationName = metadata["activation"],
              let lossName = metadata["loss"] else { throw refuse("__metadata__ lacks layers, activation or loss") }
        guard let activation = Activation(rawValue: activationName) else { throw refuse("unknown activation \(activationName)") }
        guard let loss = Loss(rawValue: lossName) else { throw refuse("unknown loss \(lossName)") }
        let architecture: Architecture
        do {
            architecture = try Architecture(parsing: layers, activation: activation, loss: loss)
        } catch {
            throw refuse("layers \(layers): \(error)")
        }
        // Architecture.parameterCount would trap on overflow; absurd sizes are bad input here.
        guard checkedParameterCount(architecture.layerSizes) != nil else {
            throw refuse("layers \(layers) have more parameters than fit in an Int")
        }
        return architecture
    }

    private static func readBuffers(
        _ tensors: [Safetensors.Tensor], architecture: Architecture, _ refuse: (String) -> CheckpointError
    ) throws -> (weights: [Float], velocity: [Float]) {
        let names = tensors.map(\.name)
        guard names == [Key.weights, Key.velocity] || names == [Key.weights] + Key.adamMoments else {
            throw refuse("tensors are \(names), expected [\"\(Key.weights)\", \"\(Key.velocity)\"] or [\"\(Key.weights)\", \"adam_m\", \"adam_v\"]")
        }
        let shape = [architecture.parameterCount]
        for tensor in tensors where tensor.dtype != "F32" || tensor.shape != shape {
            throw refuse("tensor \(tensor.name) is \(tensor.dtype) \(tensor.shape), expected F32 \(shape) for layers \(layersText(architecture))")
        }
        return (tensors[0].floats(), tensors.dropFirst().flatMap { $0.floats() })
    }

    // MARK: - Resuming

    /// Refuses to resume a run of another shape or with any other setting, naming the first difference.
    public func checkCompatible(architecture other: Architecture, settings theirs: [String: String], source: String) throws {
        func refuse(_ problem: String) -> CheckpointError { CheckpointError(file: source, problem: problem) }
        if architecture.layerSizes != other.layerSizes {
            throw refuse("written for --layers \(Self.layersText(architecture)), this run has \(Self.layersText(other))")
        }
        if architecture.activation != other.activation {
            throw refuse("written for --activation \(architecture.activation.rawValue), this run has \(other.activation.rawValue)")
        }
        if architecture.loss != other.loss {
            throw refuse("written for --loss \(architecture.loss.rawValue), this run has \(other.loss.rawValue)")
        }
        for name in Set(settings.keys).union(theirs.keys).sorted() {
            switch (settings[name], theirs[name]) {
            case let (written?, wanted?) where written != wanted:
                throw refuse("written with setting \(name)=\(written), this run has \(wanted)")
            case let (written?, nil):
                throw refuse("written with setting \(name)=\(written), this run does not set \(name)")
            case let (nil, wanted?):
                throw refuse("written without setting \(name), this run has \(name)=\(wanted)")
            default:
                continue
            }
        }
    }

    // MARK: - Format details

    private enum Key {
        static let weights = "weights"
        static let velocity = "velocity"
        static let adamMoments = ["adam_m", "adam_v"]
        static let version = "dptrain_checkpoint"
        static let epoch = "epoch"
        static let stepInEpoch = "step_in_epoch"
        static let globalStep = "global_step"
        static let checksum = "sha256"
        static let setting = "setting."
        static let progress = "progress."
        static let fixed: Set<String> = ["format", "layers", "activation", "loss", version, epoch, stepInEpoch, globalStep, checksum]

        static func isKnown(_ key: String) -> Bool {
            fixed.contains(key) || key.utf8.starts(with: setting.utf8) || key.utf8.starts(with: progress.utf8)
        }
    }

    /// Lowercase hex SHA-256 of this canonical byte string, where `n(x)` is x's
    /// byte count as a little-endian UInt64 (so no two inputs run together):
    ///   for each tensor, in the order its data lies in the file: n(name) name n(data) data;
    ///   then each metadata pair except "sha256" itself, keys sorted by their
    ///   UTF-8 bytes: n(key) key n(value) value (keys and values as UTF-8).
    /// Tensor dtypes and shapes are left out: the reader checks them against
    /// the architecture, which the metadata pairs cover.
    static func checksum(tensors: [Safetensors.Tensor], metadata: [String: String]) -> String {
        var hasher = SHA256()
        func add(_ bytes: [UInt8]) {
            withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        for tensor in tensors {
            add(Array(tensor.name.utf8))
            add(tensor.data)
        }
        let keys = metadata.keys.filter { $0 != Key.checksum }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for key in keys {
            add(Array(key.utf8))
            add(Array(metadata[key]!.utf8))
        }
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: hasher.finalize().flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }

    private static func strippingPrefix(_ prefix: String, _ metadata: [String: String]) -> [String: String] {
        var found: [String: String] = [:]
        for (key, value) in metadata where key.utf8.starts(with: prefix.utf8) {
            found[String(decoding: key.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)] = value
        }
        return found
    }

    private static func layersText(_ architecture: Architecture) -> String {
        architecture.layerSizes.map(String.init).joined(separator: ",")
    }

    private static func checkedParameterCount(_ sizes: [Int]) -> Int? {
        var total = 0
        for layer in 0..<(sizes.count - 1) {
            let (inputs, o1) = sizes[layer].addingReportingOverflow(1)
            let (count, o2) = inputs.multipliedReportingOverflow(by: sizes[layer + 1])
            let (sum, o3) = total.addingReportingOverflow(count)
            if o1 || o2 || o3 { return nil }
            total = sum
        }
        return total
    }
}
