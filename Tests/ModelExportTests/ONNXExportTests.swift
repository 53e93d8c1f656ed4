import MLP
import ModelExport
import XCTest

/// The structure of an exported graph, read back with field numbers taken
/// from onnx.proto. That onnxruntime runs it and agrees with dptrain is
/// dptrainTests' ExportTests.
final class ONNXExportTests: XCTestCase {
    private func exported(_ sizes: [Int], _ activation: Activation) throws -> (ProtobufMessage, [Float]) {
        let architecture = try Architecture(layerSizes: sizes, activation: activation)
        let parameters = (0..<architecture.parameterCount).map { Float($0) * 0.25 - 3 }
        return (try ProtobufMessage(ONNXExport.encode(parameters, architecture: architecture)), parameters)
    }

    func testModelDeclaresIRVersionAndOpset() throws {
        let (model, _) = try exported([4, 3, 2], .relu)
        XCTAssertEqual(model.varints(1), [7])                               // ir_version
        let opset = try model.message(8)
        XCTAssertEqual(opset.varints(2), [13])                              // version
        XCTAssertEqual(model.strings(2), ["dptrain"])                       // producer_name
    }

    func testNodesAreScaleThenLayersThenSoftmax() throws {
        let (model, _) = try exported([4, 3, 5, 2], .tanh)
        let nodes = try model.message(7).messages(1)
        XCTAssertEqual(nodes.map { $0.strings(4).first }, ["Div", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax"])
        // Each node reads what the one before wrote.
        for (earlier, later) in zip(nodes, nodes.dropFirst()) {
            XCTAssertEqual(later.strings(1).first, earlier.strings(2).first)
        }
        XCTAssertEqual(nodes.first?.strings(1), ["pixels", "pixel_scale"])
        XCTAssertEqual(nodes.last?.strings(2), ["probabilities"])
        for gemm in nodes where gemm.strings(4) == ["Gemm"] {
            let attribute = try gemm.message(5)
            XCTAssertEqual(attribute.strings(1), ["transB"])
            XCTAssertEqual(attribute.varints(3), [1])
        }
    }

    func testInitializersHoldTheParametersAsSafetensorsLaysThemOut() throws {
        let (model, parameters) = try exported([4, 3, 2], .relu)
        let initializers = try model.message(7).messages(5)
        XCTAssertEqual(initializers.map { $0.strings(8).first },
                       ["pixel_scale", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        let expected: [(dims: [UInt64], values: ArraySlice<Float>)] = [
            ([], [255]), ([3, 4], parameters[0..<12]), ([3], parameters[12..<15]),
            ([2, 3], parameters[15..<21]), ([2], parameters[21..<23]),
        ]
        for (tensor, want) in zip(initializers, expected) {
            XCTAssertEqual(tensor.varints(1), want.dims)
            XCTAssertEqual(tensor.varints(2), [1])                          // FLOAT
            guard case .bytes(let raw)? = tensor.all(9).first else { return XCTFail("no raw_data") }
            let values = stride(from: 0, to: raw.count, by: 4).map { at in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(raw[at + $1]) << (8 * $1) })
            }
            XCTAssertEqual(values, Array(want.values))
        }
    }

    func testInputHasASymbolicBatchAndFixedWidth() throws {
        let (model, _) = try exported([4, 3, 2], .sigmoid)
        let input = try model.message(7).message(11)
        XCTAssertEqual(input.strings(1), ["pixels"])
        let dims = try input.message(2).message(1).message(2).messages(1)
        XCTAssertEqual(dims.map { $0.strings(2) }, [["N"], []])
        XCTAssertEqual(dims.map { $0.varints(1) }, [[], [4]])
        let outputs = try model.message(7).messages(12).map { $0.strings(1) }
        XCTAssertEqual(outputs, [["probabilities"], ["logits"]])
    }

    func testLeakyReluCarriesTrainingsSlope() throws {
        let (model, _) = try exported([4, 3, 2], .leakyRelu)
        let leaky = try model.message(7).messages(1).first { $0.strings(4) == ["LeakyRelu"] }
        let attribute = try XCTUnwrap(leaky).message(5)
        XCTAssertEqual(attribute.strings(1), ["alpha"])
        XCTAssertEqual(attribute.all(2), [.fixed32(Float(0.01).bitPattern)])
    }

    func testSameModelGivesSameBytes() throws {
        let architecture = try Architecture(layerSizes: [4, 3, 2], activation: .relu)
        let parameters = (0..<architecture.parameterCount).map(Float.init)
        XCTAssertEqual(ONNXExport.encode(parameters, architecture: architecture),
                       ONNXExport.encode(parameters, architecture: architecture))
    }
}
