import Foundation
import Wire
import XCTest

/// A ROUTER bound to an ephemeral endpoint and a DEALER connected to it, on a private context.
struct RouterDealerPair {
    let context: ZMQContext
    let router: ZMQSocket
    let dealer: ZMQSocket
    let endpoint: String

    init(bindTo endpoint: String = "tcp://127.0.0.1:*", dealerID: [UInt8] = Array("worker-1".utf8)) throws {
        context = try ZMQContext()
        router = try ZMQSocket(context: context, kind: .router)
        dealer = try ZMQSocket(context: context, kind: .dealer)
        try router.setRouterMandatory(true)
        self.endpoint = try router.bind(endpoint)
        try dealer.setRoutingID(dealerID)
        try dealer.connect(self.endpoint)
    }
}

/// A fresh directory for ipc:// endpoints, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("wire-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func frames(_ parts: [[UInt8]]) throws -> [ZMQMessage] {
    try parts.map { try ZMQMessage(copying: $0) }
}

func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}
