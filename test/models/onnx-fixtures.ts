/**
 * Tiny ONNX models written here (protobufjs and ONNX's field numbers, independently of the lib's
 * reader), each with a tfjs twin holding the same weights: a 3×3 convolution, ReLU, global average
 * pooling and a dense head, on NCHW or NHWC input, ending with logits or a Softmax.
 */
import * as protobuf from 'protobufjs';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../lib/util/random';

const WRITER_SCHEMA = `
syntax = "proto2";
package onnxw;
message AttributeProto { optional string name = 1; optional int64 i = 3; repeated int64 ints = 8; optional int32 type = 20; }
message TensorProto { repeated int64 dims = 1; optional int32 data_type = 2; optional string name = 8; optional bytes raw_data = 9; }
message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
message TensorShapeProto { repeated Dimension dim = 1; }
message TensorTypeProto { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
message TypeProto { optional TensorTypeProto tensor_type = 1; }
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message NodeProto { repeated string input = 1; repeated string output = 2; optional string name = 3; optional string op_type = 4; repeated AttributeProto attribute = 5; }
message GraphProto { repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto { optional int64 ir_version = 1; optional string producer_name = 2; optional GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
`;

const Model = protobuf.parse(WRITER_SCHEMA, { keepCase: true }).root.lookupType('onnxw.ModelProto');

/** Options of {@link tinyConvNet}. */
export interface TinyNetOptions {
  layout: 'NCHW' | 'NHWC';
  height?: number;
  width?: number;
  channels?: number;
  /** End with a Softmax (output 'probs') instead of the logits (output 'logits'). */
  softmax?: boolean;
  opset?: number;
  /** The batch axis: free ('N', default) or a fixed size. */
  batch?: number;
  seed?: number;
}

const INTS = 7;
const INT = 2;

function tensor(name: string, dims: number[], values: Float32Array) {
  return { name, dims, data_type: 1, raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

function valueInfo(name: string, dims: (number | string)[]) {
  const dim = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: 1, shape: { dim } } } };
}

/**
 * The network as ONNX bytes and as a tfjs model with the same weights (tfjs layer names: conv,
 * relu, pool, logits; ONNX tensors: conv_out, relu_out, pool_out, flat, logits, probs).
 */
export function tinyConvNet(o: TinyNetOptions): { onnx: Uint8Array; tfjs: tf.LayersModel } {
  const { height: h = 6, width: w = 5, channels: c = 3, layout, softmax = false, opset = 13, seed = 7 } = o;
  const F = 4;
  const C = 3;
  const rng = createRng(seed);
  const hwio = Float32Array.from({ length: 3 * 3 * c * F }, () => rng.normal() * 0.5);
  const bias = Float32Array.from({ length: F }, () => rng.normal() * 0.1);
  const dense = Float32Array.from({ length: F * C }, () => rng.normal());
  const denseBias = Float32Array.from({ length: C }, () => rng.normal() * 0.1);
  const oihw = new Float32Array(hwio.length);
  for (let y = 0; y < 3; y++)
    for (let x = 0; x < 3; x++)
      for (let i = 0; i < c; i++)
        for (let f = 0; f < F; f++) oihw[((f * c + i) * 3 + y) * 3 + x] = hwio[((y * 3 + x) * c + i) * F + f];

  const model = tf.sequential({ name: `tiny_${layout}_${softmax ? 'softmax' : 'logits'}` });
  model.add(tf.layers.conv2d({ name: 'conv', inputShape: [h, w, c], filters: F, kernelSize: 3, padding: 'same' }));
  model.add(tf.layers.reLU({ name: 'relu' }));
  model.add(tf.layers.globalAveragePooling2d({ name: 'pool' }));
  model.add(tf.layers.dense({ name: 'logits', units: C }));
  model.getLayer('conv').setWeights([tf.tensor4d(hwio, [3, 3, c, F]), tf.tensor1d(bias)]);
  model.getLayer('logits').setWeights([tf.tensor2d(dense, [F, C]), tf.tensor1d(denseBias)]);

  const batch = o.batch ?? 'N';
  const nodes: Record<string, unknown>[] = [];
  let x = 'images';
  if (layout === 'NHWC') {
    nodes.push({
      input: [x],
      output: ['nchw'],
      name: 'to_nchw',
      op_type: 'Transpose',
      attribute: [{ name: 'perm', ints: [0, 3, 1, 2], type: INTS }],
    });
    x = 'nchw';
  }
  nodes.push(
    { input: [x, 'W', 'B'], output: ['conv_out'], name: 'conv', op_type: 'Conv', attribute: [
      { name: 'kernel_shape', ints: [3, 3], type: INTS },
      { name: 'pads', ints: [1, 1, 1, 1], type: INTS },
    ] },
    { input: ['conv_out'], output: ['relu_out'], name: 'relu', op_type: 'Relu' },
    { input: ['relu_out'], output: ['pool_out'], name: 'pool', op_type: 'GlobalAveragePool' },
    { input: ['pool_out'], output: ['flat'], name: 'flatten', op_type: 'Flatten', attribute: [{ name: 'axis', i: 1, type: INT }] },
    { input: ['flat', 'D', 'DB'], output: ['logits'], name: 'dense', op_type: 'Gemm' },
  ); // prettier-ignore
  if (softmax)
    nodes.push({
      input: ['logits'],
      output: ['probs'],
      name: 'softmax',
      op_type: 'Softmax',
      attribute: [{ name: 'axis', i: 1, type: INT }],
    });
  const graph = {
    name: 'tiny',
    node: nodes,
    initializer: [
      tensor('W', [F, c, 3, 3], oihw),
      tensor('B', [F], bias),
      tensor('D', [F, C], dense),
      tensor('DB', [C], denseBias),
    ],
    input: [valueInfo('images', layout === 'NCHW' ? [batch, c, h, w] : [batch, h, w, c])],
    output: [valueInfo(softmax ? 'probs' : 'logits', [batch, C])],
  };
  const bytes = Model.encode(
    Model.fromObject({
      ir_version: 8,
      producer_name: 'dknn-ts test',
      graph,
      opset_import: [{ domain: '', version: opset }],
    }),
  ).finish();
  return { onnx: bytes, tfjs: model };
}

/** A protobuf field no ONNX schema has (number 1999, a varint), to check that edits keep what they do not know. */
export function unknownField(value: number): Uint8Array {
  return protobuf.Writer.create()
    .uint32((1999 << 3) | 0)
    .uint32(value)
    .finish();
}
