/// Netpbm's grey map: "P5" (binary) or "P2" (ASCII text), a header of width,
/// height and the largest value, with `#` comments between the fields.
/// Values are scaled to 0–255; above 255 each is two bytes, big-endian.
enum PGMDecoder {
    static func isPGM(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == UInt8(ascii: "P") && (bytes[1] == UInt8(ascii: "5") || bytes[1] == UInt8(ascii: "2"))
    }

    static func decode(_ bytes: [UInt8], file: String) throws -> GreyImage {
        func bad(_ why: String) -> ImageError { ImageError(file: file, problem: "not a valid PGM image: \(why)") }
        let ascii = bytes[1] == UInt8(ascii: "2")
        var position = 2

        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0d).contains(byte) }
        /// The next decimal field, skipping white space and comments.
        func number(_ what: String) throws -> Int {
            while position < bytes.count {
                if isSpace(bytes[position]) {
                    position += 1
                } else if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != 0x0a { position += 1 }
                } else {
                    break
                }
            }
            var value = 0, digits = 0
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                digits += 1
                position += 1
                guard value <= 1 << 24 else { throw bad("\(what) is too large") }
            }
            guard digits > 0 else { throw bad("\(what) is missing or not a number") }
            return value
        }

        let width = try number("width"), height = try number("height"), maxValue = try number("largest value")
        guard width > 0, height > 0 else { throw bad("size \(width)×\(height) is empty") }
        guard width * height <= ImageLimits.largestPixelCount else {
            throw bad("\(width)×\(height) is larger than \(ImageLimits.largestPixelCount) pixels")
        }
        guard (1...65535).contains(maxValue) else { throw bad("largest value \(maxValue) is outside 1–65535") }
        let count = width * height
        var raw: [Int] = []
        raw.reserveCapacity(count)
        if ascii {
            for _ in 0..<count { raw.append(try number("pixel \(raw.count)")) }
        } else {
            // Exactly one white-space byte separates the header from the data.
            guard position < bytes.count, isSpace(bytes[position]) else { throw bad("no pixel data after the header") }
            position += 1
            let bytesPerValue = maxValue > 255 ? 2 : 1
            guard bytes.count - position >= count * bytesPerValue else {
                throw bad("\(bytes.count - position) bytes of pixels, \(count * bytesPerValue) needed for \(width)×\(height)")
            }
            for index in 0..<count {
                let at = position + index * bytesPerValue
                raw.append(bytesPerValue == 2 ? Int(bytes[at]) << 8 | Int(bytes[at + 1]) : Int(bytes[at]))
            }
        }
        guard let over = raw.firstIndex(where: { $0 > maxValue }) else {
            let pixels = raw.map { UInt8((Double($0) * 255 / Double(maxValue)).rounded()) }
            return GreyImage(width: width, height: height, pixels: pixels)
        }
        throw bad("pixel \(over) is \(raw[over]), above the largest value \(maxValue)")
    }
}

