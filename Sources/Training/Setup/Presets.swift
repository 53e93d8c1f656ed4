/// Named recipes: training flags tuned on this project's data sets. A
/// preset expands to its flags, placed before the ones given on the command
/// line, so any flag given explicitly overrides the preset's value. Presets
/// name no data: give `--dataset` or `--data` as always. The figures each
/// reaches are in README.md's Recipes section.
public struct Preset: Sendable {
    public let name: String
    public let summary: String
    public let flags: [String]
}

public enum Presets {
    public static let all: [Preset] = [
        Preset(
            name: "fashion-fast", summary: "Fashion-MNIST in under two minutes here: 784-256-10, AdamW, dropout, label smoothing",
            flags: [
                "--layers", "784,256,10", "--optimizer", "adamw", "--lr", "0.001", "--weight-decay", "0.01",
                "--dropout", "0.2", "--label-smoothing", "0.1", "--epochs", "20", "--batch-size", "128",
                "--lr-schedule", "cosine",
            ]),
        Preset(
            name: "fashion-best", summary: "Fashion-MNIST, best accuracy: 784-512-256-10, AdamW, dropout 0.3, 30 epochs",
            flags: [
                "--layers", "784,512,256,10", "--optimizer", "adamw", "--lr", "0.001", "--weight-decay", "0.01",
                "--dropout", "0.3", "--label-smoothing", "0.1", "--epochs", "30", "--batch-size", "128",
                "--lr-schedule", "cosine",
            ]),
        Preset(
            name: "mnist-subset-best", summary: "the 5,000-digit MNIST subset: 784-512-256-10, AdamW, dropout, ±2-pixel shifts, 60 epochs",
            flags: [
                "--layers", "784,512,256,10", "--optimizer", "adamw", "--lr", "0.001", "--weight-decay", "0.01",
                "--dropout", "0.3", "--label-smoothing", "0.1", "--augment", "shift=2", "--epochs", "60",
                "--batch-size", "128", "--lr-schedule", "cosine",
            ]),
        Preset(
            name: "mnist-full", summary: "full MNIST (60,000 digits): 784-512-256-10, AdamW, dropout, ±2-pixel shifts, 30 epochs",
            flags: [
                "--layers", "784,512,256,10", "--optimizer", "adamw", "--lr", "0.001", "--weight-decay", "0.01",
                "--dropout", "0.3", "--label-smoothing", "0.1", "--augment", "shift=2", "--epochs", "30",
                "--batch-size", "128", "--lr-schedule", "cosine",
            ]),
    ]

    public static func named(_ name: String) -> Preset? { all.first { $0.name == name } }

    /// `arguments` (the process's, program name first) with `--preset NAME`
    /// or `--preset=NAME` replaced by the preset's flags right after the
    /// subcommand. Arguments without a preset come back unchanged.
    public static func expand(_ arguments: [String]) throws -> [String] {
        guard let index = arguments.firstIndex(where: { $0 == "--preset" || $0.hasPrefix("--preset=") }) else {
            return arguments
        }
        let inline = arguments[index].hasPrefix("--preset=")
        guard inline || index + 1 < arguments.count else { throw UnknownPreset("--preset: needs a name (\(names))") }
        let name = inline ? String(arguments[index].dropFirst("--preset=".count)) : arguments[index + 1]
        guard let preset = named(name) else { throw UnknownPreset("--preset: unknown '\(name)' (\(names))") }
        var rest = arguments
        rest.removeSubrange(index...(inline ? index : index + 1))
        guard rest.count >= 2, !rest[1].hasPrefix("-") else { throw UnknownPreset("--preset: give it after a subcommand (train, simulate, coordinator, launch)") }
        return Array(rest[0...1]) + preset.flags + rest[2...]
    }

    private static var names: String { all.map(\.name).joined(separator: ", ") }
}

public struct UnknownPreset: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
