/**
 * Reading an ONNX model's graph and exposing its intermediate tensors, with protobufjs and a minimal
 * ONNX schema written here from the ONNX spec's field numbers (onnx/onnx.proto, IR version 8).
 *
 * Reading decodes only the fields declared below (protobufjs skips the others: the weights' bytes
 * are never copied). Editing never decodes and re-encodes the model: {@link withGraphOutputs}
 * appends `output` entries (field 12 of GraphProto) to the end of the graph's bytes and copies
 * every other byte as it is, so any field this schema does not know survives the edit.
 */
import * as protobuf from 'protobufjs';

/** The part of ONNX's schema dknn-ts reads (field numbers as in onnx/onnx.proto). */
export const ONNX_READ_SCHEMA = `
syntax = "proto3";
package onnx;
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message TensorShapeProto {
  message Dimension { int64 dim_value = 1; string dim_param = 2; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  Tensor tensor_type = 1;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; string name = 8; }
message AttributeProto { string name = 1; repeated int64 ints = 8; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string domain = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
`;

/** TensorProto.DataType FLOAT. */
export const ONNX_FLOAT = 1;

/** A tensor's declared element type and shape (a number per known axis, a name or null per symbolic one). */
export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType (1 = float32); 0 when not declared. */
  elemType: number;
  /** null when the shape is not declared. */
  shape: (number | string | null)[] | null;
}

/** One node of the graph. */
export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** A Transpose's `perm` attribute (absent for other operators, or when not given). */
  perm?: number[];
}

/** What dknn-ts reads of an ONNX model. */
export interface OnnxGraphInfo {
  irVersion: number;
  producer: string;
  /** The default domain's opset (ai.onnx), or null when the model imports none. */
  opset: number | null;
  /** The graph's inputs that are not initializers (weights). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** The nodes in graph order (topological, as the spec requires). */
  nodes: OnnxNode[];
}

let schema: protobuf.Root | null = null;
function root(): protobuf.Root {
  schema ??= protobuf.parse(ONNX_READ_SCHEMA, { keepCase: true }).root;
  return schema;
}

interface DecodedDim {
  dim_value?: number;
  dim_param?: string;
}
interface DecodedValueInfo {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DecodedDim[] } } };
}

function valueInfo(v: DecodedValueInfo): OnnxValueInfo {
  const t = v.type?.tensor_type;
  const dims = t?.shape?.dim;
  return {
    name: v.name,
    elemType: t?.elem_type ?? 0,
    shape: dims ? dims.map((d) => (d.dim_value ? d.dim_value : d.dim_param ? d.dim_param : null)) : null,
  };
}

/**
 * The graph of an ONNX model: its inputs (initializers left out), outputs, nodes and opset.
 * @throws Error naming `source` when the bytes are not an ONNX model (no graph, or not protobuf).
 */
export function readOnnxGraph(bytes: Uint8Array, source: string): OnnxGraphInfo {
  const Model = root().lookupType('onnx.ModelProto');
  // Every field is there (defaults: true); declared optional because toObject's result is untyped.
  let m: {
    ir_version?: number;
    producer_name?: string;
    graph?: {
      node: {
        name: string;
        op_type: string;
        domain: string;
        input: string[];
        output: string[];
        attribute: { name: string; ints: number[] }[];
      }[];
      initializer: { name: string }[];
      input: DecodedValueInfo[];
      output: DecodedValueInfo[];
    };
    opset_import?: { domain: string; version: number }[];
  };
  try {
    m = Model.toObject(Model.decode(bytes), { longs: Number, arrays: true, defaults: true });
  } catch (e) {
    throw new Error(
      `${source}: expected an ONNX model (a protobuf ModelProto), found bytes that do not decode as one (${(e as Error).message})`,
      { cause: e },
    );
  }
  if (!m.graph || (m.graph.node.length === 0 && m.graph.output.length === 0)) {
    throw new Error(
      `${source}: expected an ONNX model with a graph, found ${m.graph ? 'an empty graph' : 'no graph'} (is this an .onnx file?)`,
    );
  }
  const g = m.graph;
  const weights = new Set(g.initializer.map((t) => t.name));
  const opset = (m.opset_import ?? []).find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return {
    irVersion: m.ir_version ?? 0,
    producer: m.producer_name ?? '',
    opset: opset ? opset.version : null,
    inputs: g.input.filter((v) => !weights.has(v.name)).map(valueInfo),
    outputs: g.output.map(valueInfo),
    nodes: g.node.map((n) => {
      const perm = n.op_type === 'Transpose' ? n.attribute.find((a) => a.name === 'perm')?.ints : undefined;
      const node: OnnxNode = { name: n.name, opType: n.op_type, domain: n.domain, inputs: n.input, outputs: n.output };
      return perm ? { ...node, perm } : node;
    }),
  };
}

/** The suffix of the tensor an appended Transpose makes of a tensor (see {@link withGraphOutputs}). */
export const NHWC_SUFFIX = '::dknn-nhwc';

/**
 * The model's bytes with `names` appended to its graph's outputs (names in `already`, the graph's
 * outputs, are left as they are), and for each name of `toNhwc` (rank-4 NCHW tensors) a Transpose
 * node (perm 0, 2, 3, 1) appended whose output, `name + NHWC_SUFFIX`, is exposed instead. Every
 * other byte is copied unchanged (see the module comment); the new outputs carry a name only,
 * their type is the one the runtime infers.
 * @throws Error when the model has no graph, or several graph fields.
 */
export function withGraphOutputs(
  bytes: Uint8Array,
  names: readonly string[],
  already: ReadonlySet<string>,
  toNhwc: ReadonlySet<string> = new Set(),
): Uint8Array {
  const graph = graphField(bytes);
  const extra = protobuf.Writer.create();
  for (const name of names) {
    if (toNhwc.has(name)) {
      const nhwc = name + NHWC_SUFFIX;
      extra.uint32((1 << 3) | 2).fork(); // GraphProto.node
      extra.uint32((1 << 3) | 2).string(name); // NodeProto.input
      extra.uint32((2 << 3) | 2).string(nhwc); // NodeProto.output
      extra.uint32((3 << 3) | 2).string(nhwc); // NodeProto.name
      extra.uint32((4 << 3) | 2).string('Transpose'); // NodeProto.op_type
      extra.uint32((5 << 3) | 2).fork(); // NodeProto.attribute
      extra.uint32((1 << 3) | 2).string('perm'); // AttributeProto.name
      for (const axis of [0, 2, 3, 1]) extra.uint32((8 << 3) | 0).int64(axis); // AttributeProto.ints
      extra.uint32((20 << 3) | 0).int32(7); // AttributeProto.type = INTS
      extra.ldelim().ldelim();
      extra
        .uint32((12 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 2)
        .string(nhwc)
        .ldelim(); // GraphProto.output
    } else if (!already.has(name)) {
      extra
        .uint32((12 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 2)
        .string(name)
        .ldelim(); // GraphProto.output
    }
  }
  const added = extra.finish();
  const header = protobuf.Writer.create()
    .uint32((7 << 3) | 2)
    .uint32(graph.end - graph.start + added.length)
    .finish();
  const parts = [
    bytes.subarray(0, graph.tagStart),
    header,
    bytes.subarray(graph.start, graph.end),
    added,
    bytes.subarray(graph.end),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Where ModelProto.graph (field 7) lies in `bytes`. @throws when there is none, or several. */
function graphField(bytes: Uint8Array): { tagStart: number; start: number; end: number } {
  const reader = protobuf.Reader.create(bytes);
  let graph: { tagStart: number; start: number; end: number } | null = null;
  while (reader.pos < reader.len) {
    const tagStart = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 === 7 && (tag & 7) === 2) {
      const length = reader.uint32();
      if (graph) throw new Error('expected one graph in the ONNX model, found several graph fields');
      graph = { tagStart, start: reader.pos, end: reader.pos + length };
      reader.skip(length);
    } else {
      reader.skipType(tag & 7);
    }
  }
  if (!graph) throw new Error('expected an ONNX model with a graph, found none');
  return graph;
}
