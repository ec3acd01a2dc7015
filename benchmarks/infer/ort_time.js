#!/usr/bin/env node
// Times an ONNX model in ONNX Runtime (onnxruntime-node, CPU execution
// provider, every graph optimisation, THREADS intra-op threads) on random
// input, the way benchmarks/infer times this toolkit's engine: repetitions
// doubled until they take at least 100 ms, then the median of 5 timings.
// Prints one JSON line.
//
//   node ort_time.js MODEL.onnx BATCH THREADS
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'scripts', 'onnx', 'node_modules', 'onnxruntime-node'));

async function main() {
  const [file, batchArg, threadsArg] = process.argv.slice(2);
  const batch = parseInt(batchArg, 10);
  const threads = parseInt(threadsArg || '1', 10);
  if (!file || !(batch > 0) || !(threads > 0)) throw new Error('usage: ort_time.js MODEL.onnx BATCH THREADS');
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const name = session.inputNames[0];
  // The declared input shape, with the batch dimension (symbolic or 1) set.
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  let dims = meta && meta.shape ? meta.shape.slice() : null;
  if (!dims) throw new Error('the model declares no input shape');
  dims[0] = batch;
  dims = dims.map((d) => (typeof d === 'number' ? d : batch));
  const size = dims.reduce((a, b) => a * b, 1);
  // A fixed pseudo-random input (a linear congruential generator).
  const x = new Float32Array(size);
  let s = 1;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = s / 2147483648;
  }
  const feeds = { [name]: new ort.Tensor('float32', x, dims) };
  const run = async (reps) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) await session.run(feeds);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  let reps = 1;
  while ((await run(reps)) <= 100) reps *= 2;
  const ts = [];
  for (let r = 0; r < 5; r++) ts.push((await run(reps)) / reps);
  ts.sort((a, b) => a - b);
  console.log(JSON.stringify({ impl: 'ort', file: path.basename(file), kernels: 'ort', batch, ms_per_batch: ts[2], threads }));
}

main().catch((e) => {
  console.error('ort_time.js:', e.message);
  process.exit(1);
});
