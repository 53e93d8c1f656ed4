/// The ONNX messages an exported MLP needs, each encoding itself with the
/// field numbers of onnx/onnx.proto (ModelProto, GraphProto, NodeProto,
/// AttributeProto, TensorProto, ValueInfoProto and the types inside it).
/// Only the fields dptrain sets are here; protobuf readers skip none of
/// them and need no others.
enum ONNX {
    /// TensorProto.DataType.FLOAT.
    static let float32: Int64 = 1

    /// A constant tensor (TensorProto): F32, row-major, in raw_data as
    /// little-endian IEEE 754, the form onnx.proto recommends for bulk data.
    struct Tensor {
        var name: String
        var dims: [Int]
        var values: [Float]

        func encode(_ out: inout ProtobufWriter) {
            for dim in dims { out.int(1, Int64(dim)) }             // dims
            out.int(2, ONNX.float32)                              // data_type
            out.string(8, name)                                   // name
            var raw: [UInt8] = []
            raw.reserveCapacity(values.count * 4)
            for value in values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) }
            }
            out.data(9, raw)                                      // raw_data
        }
    }

    /// A node attribute (AttributeProto) of one float or one int.
    enum Attribute {
        case float(String, Float)
        case int(String, Int64)

        func encode(_ out: inout ProtobufWriter) {
            switch self {
            case .float(let name, let value):
                out.string(1, name)                               // name
                out.float(2, value)                               // f
                out.int(20, 1)                                    // type = FLOAT
            case .int(let name, let value):
                out.string(1, name)
                out.int(3, value)                                 // i
                out.int(20, 2)                                    // type = INT
            }
        }
    }

    /// One operator (NodeProto) of the default domain.
    struct Node {
        var op: String
        var inputs: [String]
        var outputs: [String]
        var name: String
        var attributes: [Attribute] = []

        func encode(_ out: inout ProtobufWriter) {
            for input in inputs { out.string(1, input) }          // input
            for output in outputs { out.string(2, output) }       // output
            out.string(3, name)                                   // name
            out.string(4, op)                                     // op_type
            for attribute in attributes { out.message(5, attribute.encode) }  // attribute
        }
    }

    /// A graph input or output (ValueInfoProto) of F32 elements; a nil
    /// dimension is symbolic (dim_param), such as the batch size.
    struct Value {
        var name: String
        var dims: [(fixed: Int?, symbol: String)]

        func encode(_ out: inout ProtobufWriter) {
            out.string(1, name)                                   // name
            out.message(2) { type in                              // type: TypeProto
                type.message(1) { tensor in                       // tensor_type: TypeProto.Tensor
                    tensor.int(1, ONNX.float32)                   // elem_type
                    tensor.message(2) { shape in                  // shape: TensorShapeProto
                        for dim in dims {
                            shape.message(1) { dimension in       // dim
                                if let fixed = dim.fixed {
                                    dimension.int(1, Int64(fixed))        // dim_value
                                } else {
                                    dimension.string(2, dim.symbol)       // dim_param
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A graph (GraphProto): nodes in topological order, constants, inputs and outputs.
    struct Graph {
        var name: String
        var nodes: [Node]
        var initializers: [Tensor]
        var inputs: [Value]
        var outputs: [Value]

        func encode(_ out: inout ProtobufWriter) {
            for node in nodes { out.message(1, node.encode) }               // node
            out.string(2, name)                                             // name
            for tensor in initializers { out.message(5, tensor.encode) }    // initializer
            for input in inputs { out.message(11, input.encode) }           // input
            for output in outputs { out.message(12, output.encode) }        // output
        }
    }

    /// The file (ModelProto): IR version, the operator set imported, who wrote it, the graph.
    struct Model {
        var irVersion: Int64
        var opsetVersion: Int64
        var producer: String
        var documentation: String
        var metadata: [(key: String, value: String)]
        var graph: Graph

        func encoded() -> [UInt8] {
            var out = ProtobufWriter()
            out.int(1, irVersion)                                 // ir_version
            out.string(2, producer)                               // producer_name
            out.string(6, documentation)                          // doc_string
            out.message(7, graph.encode)                          // graph
            out.message(8) { opset in                             // opset_import: OperatorSetIdProto
                opset.string(1, "")                               // domain: the default, ai.onnx
                opset.int(2, opsetVersion)                        // version
            }
            for (key, value) in metadata {
                out.message(14) { entry in                        // metadata_props: StringStringEntryProto
                    entry.string(1, key)
                    entry.string(2, value)
                }
            }
            return out.bytes
        }
    }
}
