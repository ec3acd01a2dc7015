#!/usr/bin/env node
// Runs an ONNX model with ONNX Runtime (onnxruntime-node, CPU) on MNIST
// test images and prints its logits as JSON on stdout:
//   {"logits": [[...], ...], "labels": [...], "accuracy": 0.98, "n": 10000}
//
// Usage: node run_ort.js --model m.onnx [--mnist DIR] [--count N] [--batch B]
//        node run_ort.js --model m.onnx[,m2.onnx...] --input x.f32 --shape C,H,W [--count N]
//
// With --input, the samples are read from a file of little-endian float32
// values of the per-sample --shape instead of MNIST, several models (comma-
// separated) run on them, and the output is {"models": [{"model": M,
// "logits": [[...], ...]}, ...]} (no labels).
//
// DIR holds t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz
// (default $SPRED_MNIST_DIR). Pixels are scaled to [0, 1] as spred does.
// The input is shaped from the model's declared input: [batch, 784] or
// [batch, 1, 28, 28].
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const args = { mnist: process.env.SPRED_MNIST_DIR || '', count: 10000, batch: 1000, input: '', shape: '' };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args) && key !== 'model') throw new Error(`unknown flag ${argv[i]}`);
    if (i + 1 >= argv.length) throw new Error(`flag ${argv[i]} needs a value`);
    args[key] = argv[++i];
  }
  if (!args.model) throw new Error('--model is required');
  args.count = parseInt(args.count, 10);
  args.batch = parseInt(args.batch, 10);
  if (!(args.count > 0) || !(args.batch > 0)) throw new Error('--count and --batch must be positive');
  return args;
}

function readIdx(file) {
  const data = zlib.gunzipSync(fs.readFileSync(file));
  const ndim = data[3];
  const dims = [];
  for (let i = 0; i < ndim; i++) dims.push(data.readUInt32BE(4 + 4 * i));
  return { dims, body: data.subarray(4 + 4 * ndim) };
}

async function runRaw(args) {
  const shape = args.shape.split(',').map((d) => parseInt(d, 10));
  if (shape.length === 0 || shape.some((d) => !(d > 0))) throw new Error(`bad --shape ${args.shape}`);
  const size = shape.reduce((a, b) => a * b, 1);
  const buf = fs.readFileSync(args.input);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length - (buf.length % 4)));
  const n = Math.min(args.count, Math.floor(all.length / size));
  const results = [];
  for (const model of args.model.split(',')) {
    const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
    const logits = [];
    for (let start = 0; start < n; start += args.batch) {
      const b = Math.min(args.batch, n - start);
      const x = all.slice(start * size, (start + b) * size);
      const out = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [b, ...shape]) }))[session.outputNames[0]];
      const classes = out.dims[1];
      for (let i = 0; i < b; i++) logits.push(Array.from(out.data.subarray(i * classes, (i + 1) * classes)));
    }
    results.push({ model, logits });
  }
  process.stdout.write(JSON.stringify({ models: results, n }));
  process.stdout.write('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.input) return runRaw(args);
  const images = readIdx(path.join(args.mnist, 't10k-images-idx3-ubyte.gz'));
  const labels = readIdx(path.join(args.mnist, 't10k-labels-idx1-ubyte.gz'));
  const n = Math.min(args.count, images.dims[0]);
  const size = images.dims[1] * images.dims[2];

  const session = await ort.InferenceSession.create(args.model, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  let perSample = [size];
  const meta = session.inputMetadata && session.inputMetadata[0];
  if (meta && Array.isArray(meta.shape) && meta.shape.length === 4) perSample = [1, images.dims[1], images.dims[2]];

  const logits = [];
  const labelList = [];
  let correct = 0;
  for (let start = 0; start < n; start += args.batch) {
    const b = Math.min(args.batch, n - start);
    const x = new Float32Array(b * size);
    for (let i = 0; i < b * size; i++) x[i] = images.body[start * size + i] / 255;
    const feeds = { [inputName]: new ort.Tensor('float32', x, [b, ...perSample]) };
    const out = (await session.run(feeds))[outputName];
    const classes = out.dims[1];
    for (let i = 0; i < b; i++) {
      const row = Array.from(out.data.subarray(i * classes, (i + 1) * classes));
      let best = 0;
      for (let c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
      const label = labels.body[start + i];
      if (best === label) correct++;
      logits.push(row);
      labelList.push(label);
    }
  }
  process.stdout.write(JSON.stringify({ logits, labels: labelList, accuracy: correct / n, n }));
  process.stdout.write('\n');
}

main().catch((err) => {
  process.stderr.write(`run_ort: ${err.message || err}\n`);
  process.exit(1);
});
