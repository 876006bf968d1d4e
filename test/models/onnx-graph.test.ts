import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, asFloat } from '../../models/onnx-graph.ts';

const { onnx } = onnxProto;

describe('GraphBuilder', () => {
  it('builds a model onnxruntime loads and runs, with a symbolic batch dimension', async () => {
    const g = new GraphBuilder('tiny');
    const x = g.input('x', ['batch', 3]);
    const weights = g.initializer('w', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
    const product = g.op('MatMul', [x, weights]);
    const leaky = g.op('LeakyRelu', [product], { alpha: asFloat(1) });
    const clipped = g.op('Clip', [leaky, g.scalar(0), g.scalar(20)]);
    g.output(g.rename(clipped, 'y'), ['batch', 2]);
    const session = await ort.InferenceSession.create(g.toBytes());
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1, 1, -1, 0, 0, 1, 0, 1]), [3, 3]) });
    expect(result.y?.dims).toEqual([3, 2]);
    expect(Array.from(result.y?.data as Float32Array)).toEqual([9, 12, 0, 0, 6, 8]);
    await session.release();
  });

  it('maps integers to INT attributes, fractions and asFloat() to FLOAT, lists to INTS/FLOATS, strings to STRING', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [1, 1, 4, 4]);
    g.node('Custom', [x], { a: 2, b: 0.5, c: asFloat(3), d: [1, 2], e: [0.5, 1], f: asFloat([1, 2]), s: 'same', n: 7n });
    const model = onnx.ModelProto.decode(g.toBytes(18));
    const Type = onnx.AttributeProto.AttributeType;
    const attributes = Object.fromEntries((model.graph?.node?.[0]?.attribute ?? []).map((attribute) => [attribute.name, attribute]));
    expect(attributes.a?.type).toBe(Type.INT);
    expect(Number(attributes.a?.i)).toBe(2);
    expect(attributes.b?.type).toBe(Type.FLOAT);
    expect(attributes.c?.type).toBe(Type.FLOAT);
    expect(attributes.c?.f).toBe(3);
    expect(attributes.d?.type).toBe(Type.INTS);
    expect(attributes.e?.type).toBe(Type.FLOATS);
    expect(attributes.f?.type).toBe(Type.FLOATS);
    expect(attributes.s?.type).toBe(Type.STRING);
    expect(new TextDecoder().decode(attributes.s?.s ?? new Uint8Array())).toBe('same');
    expect(attributes.n?.type).toBe(Type.INT);
    expect(Number(model.opsetImport?.[0]?.version)).toBe(18);
  });

  it('stores int64 and int32 initializers that ops consume (Reshape, Gather)', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', [2, 3]);
    const flat = g.op('Reshape', [x, g.int64s([6])]);
    const picked = g.op('Gather', [flat, g.initializer('idx', Int32Array.from([5, 0]), [2])], { axis: 0 });
    g.output(g.rename(picked, 'picked'), [2]);
    const session = await ort.InferenceSession.create(g.toBytes());
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) });
    expect(Array.from(result.picked?.data as Float32Array)).toEqual([6, 1]);
    await session.release();
  });

  it('rejects an initializer whose data does not fill its dims, and duplicate tensor names', () => {
    const g = new GraphBuilder();
    expect(() => g.initializer('w', new Float32Array(5), [2, 3])).toThrow(/do not fill/);
    g.input('x', [1]);
    expect(() => g.input('x', [1])).toThrow(/already used/);
  });
});
