/**
 * A small, generic ONNX graph builder over the `onnx-proto` protobuf classes.
 *
 * Tensors are referred to by name; `node()` returns the names of its (auto-named) outputs, so
 * graphs read like straight-line code:
 *
 *   const g = new GraphBuilder('tiny');
 *   const x = g.input('x', [1, 3]);
 *   const [y] = g.node('Relu', [x]);
 *   g.output(g.rename(y, 'y'), [1, 3]);
 *   const bytes = g.toBytes();
 *
 * Attribute typing: a JS integer becomes an INT attribute and a non-integer a FLOAT; wrap a value
 * in `asFloat()` to force FLOAT/FLOATS (e.g. `alpha: asFloat(1)`); a bigint is an INT; a string
 * is a STRING; an array of numbers becomes INTS when every element is an integer, else FLOATS.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type ElementType = 'float32' | 'int32' | 'int64' | 'bool' | 'uint8';
export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** Marks a number or number list as a FLOAT/FLOATS attribute even when its values are integral. */
export class FloatAttribute {
  constructor(readonly value: number | number[]) {}
}

export function asFloat(value: number | number[]): FloatAttribute {
  return new FloatAttribute(value);
}

export type AttributeValue = number | number[] | string | bigint | bigint[] | FloatAttribute;

const DATA_TYPE: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
  uint8: onnx.TensorProto.DataType.UINT8,
};

const DEFAULT_OPSET = 17;
/** IR version 8 is what onnx-proto's schema (ONNX 1.10) describes; onnxruntime reads it with any opset it supports. */
const IR_VERSION = 8;

function elementTypeOf(data: TensorData): ElementType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'uint8';
}

function shapeProto(dims: Array<number | string>): onnxProto.onnx.ITensorShapeProto {
  return {
    dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })),
  };
}

function attributeProto(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttribute) {
    return Array.isArray(value.value)
      ? { name, type: Type.FLOATS, floats: value.value }
      : { name, type: Type.FLOAT, f: value.value };
  }
  if (typeof value === 'string') return { name, type: Type.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'bigint') return { name, type: Type.INT, i: Number(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: Type.INT, i: value } : { name, type: Type.FLOAT, f: value };
  }
  const list = value as Array<number | bigint>;
  if (list.every((item) => typeof item === 'bigint' || Number.isInteger(item))) {
    return { name, type: Type.INTS, ints: list.map((item) => Number(item)) };
  }
  return { name, type: Type.FLOATS, floats: list.map((item) => Number(item)) };
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly usedNames = new Set<string>();
  private counter = 0;

  constructor(private readonly graphName = 'graph') {}

  /** Declares a graph input; a string dimension is symbolic (e.g. "batch"). */
  input(name: string, dims: Array<number | string>, elementType: ElementType = 'float32'): string {
    this.claim(name);
    this.inputs.push({ name, type: { tensorType: { elemType: DATA_TYPE[elementType], shape: shapeProto(dims) } } });
    return name;
  }

  /** Declares an existing tensor as a graph output. Use `rename()` first to give it a public name. */
  output(name: string, dims: Array<number | string>, elementType: ElementType = 'float32'): void {
    this.outputs.push({ name, type: { tensorType: { elemType: DATA_TYPE[elementType], shape: shapeProto(dims) } } });
  }

  /** Adds a named constant tensor (stored little-endian in raw_data). */
  initializer(name: string, data: TensorData, dims: number[]): string {
    const count = dims.reduce((product, dim) => product * dim, 1);
    if (count !== data.length) {
      throw new RangeError(`initializer ${name}: ${data.length} values do not fill dims [${dims.join(',')}]`);
    }
    this.claim(name);
    this.initializers.push({
      name,
      dims,
      dataType: DATA_TYPE[elementTypeOf(data)],
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
    });
    return name;
  }

  /** An auto-named constant; scalars when dims is []. */
  constant(data: TensorData | number[], dims: number[] = [Array.isArray(data) ? data.length : data.length]): string {
    const typed = Array.isArray(data) ? Float32Array.from(data) : data;
    return this.initializer(this.freshName('const'), typed, dims);
  }

  /** An auto-named int64 constant (shapes, axes, slice bounds). */
  int64s(values: number[], dims: number[] = [values.length]): string {
    return this.initializer(this.freshName('i64'), BigInt64Array.from(values.map((value) => BigInt(value))), dims);
  }

  /** A float scalar constant. */
  scalar(value: number): string {
    return this.constant(Float32Array.of(value), []);
  }

  /** Adds a node; returns the names of its outputs. An empty input name means an omitted optional input. */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    outputCount = 1,
  ): string[] {
    const outputs = Array.from({ length: outputCount }, () => {
      const name = this.freshName(opType.toLowerCase());
      this.claim(name);
      return name;
    });
    this.nodes.push({
      opType,
      name: this.freshName(`${opType}_node`),
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
    });
    return outputs;
  }

  /** Shorthand for single-output nodes. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): string {
    const [output] = this.node(opType, inputs, attributes, 1);
    return output as string;
  }

  /** Copies a tensor under a chosen name (an Identity node), e.g. for graph outputs. */
  rename(tensor: string, name: string): string {
    this.claim(name);
    this.nodes.push({ opType: 'Identity', name: this.freshName('Identity_node'), input: [tensor], output: [name] });
    return name;
  }

  toBytes(opset = DEFAULT_OPSET): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'paddock',
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new RangeError(`tensor name ${name} is already used`);
    this.usedNames.add(name);
  }

  private freshName(prefix: string): string {
    let name: string;
    do {
      name = `${prefix}_${this.counter++}`;
    } while (this.usedNames.has(name));
    return name;
  }
}
