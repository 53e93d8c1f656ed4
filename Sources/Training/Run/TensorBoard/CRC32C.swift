/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum
/// TFRecord files use, and TensorFlow's "mask" over it. A reader that finds
/// a wrong checksum drops the record without a word, so this is tested
/// against published vectors (RFC 3720's).
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// TensorFlow's masked form: rotate right by 15, add a constant, so a
    /// CRC stored inside CRC'd data does not weaken the outer one.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
