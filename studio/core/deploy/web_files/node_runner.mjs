// The studio's side of the web target: loads a web folder's own policy.js under Node (the same module a
// page imports) and answers one JSON request per line on stdin:
//   {"predict": {"rows": N, "inputs": {"name": "<base64 float32, N rows in the environment's layout>"}}}
//       -> {"actions": [...]}
//   {"bench": {"calls": N, "warmup": W}} -> {"predict_us": [...], "raw_us": [...]}   (predict, bare session.run)
// It ends when stdin closes.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const folder = process.argv[2];
const module = await import(pathToFileURL(`${folder}/policy.js`).href);
const policy = await module.loadPolicy(new Uint8Array(readFileSync(`${folder}/policy.onnx`)));
const { io } = module;
const size = (shape) => shape.reduce((a, b) => a * b, 1);
let last = null;

function rows(request) {
  const columns = io.inputs.map((spec) => {
    const bytes = Buffer.from(request.inputs[spec.name], 'base64');
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    return { spec, data, width: size(spec.shape) };
  });
  const observations = [];
  for (let row = 0; row < request.rows; row++) {
    const parts = {};
    for (const { spec, data, width } of columns) parts[spec.name] = data.subarray(row * width, (row + 1) * width);
    observations.push(io.dict_observation ? parts : parts[io.inputs[0].name]);
  }
  return observations;
}

async function timed(fn, calls, warmup) {
  for (let i = 0; i < warmup; i++) await fn();
  const us = new Array(calls);
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    await fn();
    us[i] = Number(process.hrtime.bigint() - start) / 1e3;
  }
  return us;
}

process.stdout.write(JSON.stringify({ ready: true, io, ort: module.ortVersion, node: process.version }) + '\n');
for await (const line of createInterface({ input: process.stdin })) {
  let reply;
  try {
    const request = JSON.parse(line);
    if (request.predict) {
      const actions = [];
      last = rows(request.predict);
      for (const observation of last) actions.push(await policy.predict(observation));
      reply = { actions };
    } else if (request.bench) {
      const observation = last ? last[0] : rows({ rows: 1, inputs: Object.fromEntries(io.inputs.map(
        (s) => [s.name, Buffer.from(new Float32Array(size(s.shape)).buffer).toString('base64')])) })[0];
      const { calls, warmup } = request.bench;
      const predict_us = await timed(() => policy.predict(observation), calls, warmup);
      const raw_us = await timed(() => policy.session.run(policy.feeds), calls, warmup);
      reply = { predict_us, raw_us };
    } else {
      reply = { error: 'unknown request' };
    }
  } catch (error) {
    reply = { error: String(error && error.message ? error.message : error) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
