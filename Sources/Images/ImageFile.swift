import Foundation

/// Reads a picture for `predict`: PNG or PGM, told apart by their first
/// bytes rather than the file name.
public enum ImageFile {
    public static func read(_ path: String) throws -> GreyImage {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError(file: path, problem: "cannot be read (missing or not a file)")
        }
        return try decode([UInt8](data), file: path)
    }

    /// A file's bytes as a picture; `file` names it in errors.
    public static func decode(_ bytes: [UInt8], file path: String) throws -> GreyImage {
        if PNGDecoder.isPNG(bytes) { return try PNGDecoder.decode(bytes, file: path) }
        if PGMDecoder.isPGM(bytes) { return try PGMDecoder.decode(bytes, file: path) }
        throw ImageError(file: path, problem: "not a PNG or PGM image (unrecognised first bytes)")
    }
}
