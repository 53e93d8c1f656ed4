import Foundation

/// The safetensors file format: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the raw data.
/// The writer emits the JSON itself, in tensor order with sorted metadata, so
/// that the same tensors always give the same bytes.
public struct Safetensors {
    public struct Tensor: Equatable {
        public var name: String
        public var dtype: String  // "F32", "I64", "U64", "U8"
        public var shape: [Int]
        public var data: [UInt8]

        public init(name: String, dtype: String, shape: [Int], data: [UInt8]) {
            self.name = name; self.dtype = dtype; self.shape = shape; self.data = data
        }

        public init(name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) {
            self.init(name: name, dtype: "F32", shape: shape, data: Array(UnsafeRawBufferPointer(floats)))
        }

        public func floats() -> [Float] {
            data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
    }

    public var tensors: [Tensor]
    public var metadata: [String: String]

    public init(tensors: [Tensor], metadata: [String: String]) {
        self.tensors = tensors; self.metadata = metadata
    }

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name } }

    static let bytesPerElement = ["F32": 4, "I64": 8, "U64": 8, "I32": 4, "U32": 4, "U8": 1, "F64": 8]

    public func encoded() -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(JSONText.quoted(tensor.name)):{\"dtype\":\"\(tensor.dtype)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + tensor.data.count)]}")
            offset += tensor.data.count
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        // The format recommends padding the header with spaces to 8-byte alignment.
        while header.count % 8 != 0 { header.append(0x20) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for tensor in tensors { bytes.append(contentsOf: tensor.data) }
        return bytes
    }

    /// Parses and checks a whole file image. `source` names the file in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Safetensors {
        func bad(_ why: String) -> SafetensorsError { SafetensorsError(file: source, problem: why) }
        guard bytes.count >= 8 else { throw bad("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        let headerLength = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(bytes.count - 8), headerLength <= 100_000_000 else {
            throw bad("declared header length \(headerLength) exceeds the file (\(bytes.count) bytes)")
        }
        let headerEnd = 8 + Int(headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
              let header = json as? [String: Any] else { throw bad("header is not a JSON object") }
        var metadata: [String: String] = [:]
        var tensors: [(begin: Int, tensor: Tensor)] = []
        let dataLength = bytes.count - headerEnd
        for (name, value) in header {
            if name == "__metadata__" {
                guard let pairs = value as? [String: String] else { throw bad("__metadata__ is not a map of strings") }
                metadata = pairs
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
                  offsets.count == 2 else { throw bad("tensor \(name) has a malformed entry") }
            guard let width = bytesPerElement[dtype] else { throw bad("tensor \(name) has unsupported dtype \(dtype)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), 0 <= begin, begin <= end, end <= dataLength else {
                throw bad("tensor \(name) has data offsets [\(begin), \(end)] outside the \(dataLength) data bytes")
            }
            // A crafted shape must not overflow: checked before any size is trusted.
            var elements = 1
            for dimension in shape + [width] {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw bad("tensor \(name) has shape \(shape), too large to address") }
                elements = product
            }
            guard elements == end - begin else {
                throw bad("tensor \(name) has shape \(shape) but \(end - begin) bytes of \(dtype)")
            }
            tensors.append((begin, Tensor(name: name, dtype: dtype, shape: shape,
                                          data: Array(bytes[(headerEnd + begin)..<(headerEnd + end)]))))
        }
        tensors.sort { $0.begin < $1.begin }
        var expected = 0
        for (begin, tensor) in tensors {
            guard begin == expected else { throw bad("tensor \(tensor.name) does not start where the previous one ends") }
            expected += tensor.data.count
        }
        guard expected == dataLength else { throw bad("\(dataLength - expected) bytes after the last tensor") }
        return Safetensors(tensors: tensors.map(\.tensor), metadata: metadata)
    }

    public static func read(from url: URL) throws -> Safetensors {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SafetensorsError(file: url.path, problem: "cannot be read (missing or not a file)")
        }
        return try decode([UInt8](data), source: url.path)
    }
}

public struct SafetensorsError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file): not a valid safetensors file: \(problem)" }
}
