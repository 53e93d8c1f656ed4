import CZeroMQ
import Foundation

/// One CURVE key (32 bytes of a Curve25519 public or secret key), held as
/// its 40-character Z85 text, the form libzmq, the key files and the
/// authorized-keys list all use. Encoding and decoding are libzmq's own.
public struct CurveKey: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public static let z85Count = 40

    public let z85: String

    /// Nil unless `text` is exactly 40 characters of the Z85 alphabet that
    /// libzmq decodes to 32 bytes.
    public init?(z85 text: String) {
        guard text.utf8.count == Self.z85Count, text.utf8.allSatisfy(Self.isZ85) else { return nil }
        var bytes = [UInt8](repeating: 0, count: Self.byteCount)
        guard zmq_z85_decode(&bytes, text) != nil else { return nil }
        z85 = text
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount, "a CURVE key is 32 bytes")
        var text = [CChar](repeating: 0, count: Self.z85Count + 1)
        _ = zmq_z85_encode(&text, bytes, bytes.count)
        z85 = String(cString: text)
    }

    public var bytes: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.byteCount)
        _ = zmq_z85_decode(&bytes, z85)
        return bytes
    }

    /// Only the first characters: enough to tell keys apart in a log, never a whole secret.
    public var description: String { "\(z85.prefix(8))…" }

    /// The Z85 alphabet (ZeroMQ RFC 32).
    static func isZ85(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return Array(".-:+=^!/*?&<>()[]{}@%$#".utf8).contains(byte)
        }
    }
}

/// A CURVE secret key and the public key that goes with it.
public struct CurveKeyPair: Sendable {
    public let publicKey: CurveKey
    public let secretKey: CurveKey

    /// A fresh pair from libzmq (libsodium or tweetnacl underneath).
    public static func generate() throws -> CurveKeyPair {
        try Curve.requireAvailable()
        var publicText = [CChar](repeating: 0, count: CurveKey.z85Count + 1)
        var secretText = [CChar](repeating: 0, count: CurveKey.z85Count + 1)
        guard zmq_curve_keypair(&publicText, &secretText) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: CurveKey(z85: String(cString: publicText))!,
                            secretKey: CurveKey(z85: String(cString: secretText))!)
    }

    /// The pair of `secretKey`, its public half derived by libzmq (zmq_curve_public).
    public init(secretKey: CurveKey) throws {
        try Curve.requireAvailable()
        var publicText = [CChar](repeating: 0, count: CurveKey.z85Count + 1)
        guard zmq_curve_public(&publicText, secretKey.z85) == 0 else { throw ZMQError.last("zmq_curve_public") }
        self.init(publicKey: CurveKey(z85: String(cString: publicText))!, secretKey: secretKey)
    }

    private init(publicKey: CurveKey, secretKey: CurveKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }
}

/// Whether this libzmq was built with CURVE.
public enum Curve {
    public static var isAvailable: Bool { zmq_has("curve") != 0 }

    public static func requireAvailable() throws {
        guard isAvailable else { throw CurveKeyError.curveUnavailable }
    }
}
