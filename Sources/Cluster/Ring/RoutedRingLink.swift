import Collective

/// One of the two rings a two-level member takes part in, as a RingLink
/// of its own: every call goes to the member's ZeroMQRingLink over one
/// path, shared memory for the host's ring or sockets for the ring between
/// hosts.
final class RoutedRingLink: RingLink {
    private let link: ZeroMQRingLink
    private let route: ZeroMQRingLink.Route

    init(_ link: ZeroMQRingLink, route: ZeroMQRingLink.Route) {
        self.link = link
        self.route = route
    }

    func sendSum(_ values: UnsafeBufferPointer<Int64>, round: Int, message: Int, nonFinite: Bool) throws {
        try link.routed(route) { try link.sendSum(values, round: round, message: message, nonFinite: nonFinite) }
    }

    func sendWeights(_ values: UnsafeBufferPointer<Float>, round: Int, message: Int) throws {
        try link.routed(route) { try link.sendWeights(values, round: round, message: message) }
    }

    func receiveSum(round: Int, message: Int, addingOnto sum: UnsafeMutableBufferPointer<Int64>) throws -> RingReceipt {
        try link.routed(route) { try link.receiveSum(round: round, message: message, addingOnto: sum) }
    }

    func receiveWeights(round: Int, message: Int, into weights: UnsafeMutableBufferPointer<Float>) throws -> RingReceipt {
        try link.routed(route) { try link.receiveWeights(round: round, message: message, into: weights) }
    }

    func sendValue(_ value: SIMD2<UInt64>, round: Int, message: Int) throws {
        try link.routed(route) { try link.sendValue(value, round: round, message: message) }
    }

    func receiveValue(round: Int, message: Int, into value: inout SIMD2<UInt64>) throws -> RingReceipt {
        var received = value
        let receipt = try link.routed(route) { try link.receiveValue(round: round, message: message, into: &received) }
        value = received
        return receipt
    }

    func weightsWillChange(_ values: UnsafeBufferPointer<Float>, message: Int) {
        link.routed(route) { link.weightsWillChange(values, message: message) }
    }

    func weightSendsSettled() { link.weightSendsSettled() }
}
