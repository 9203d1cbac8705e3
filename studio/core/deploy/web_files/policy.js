// SB3 Studio: a Stable-Baselines3 policy for the browser (and Node), on onnxruntime-web (WebAssembly).
// Everything it needs is in this folder: no CDN, nothing fetched but this folder's own files.
//
//   import { loadPolicy } from './policy.js';
//   const policy = await loadPolicy();                  // fetches ./policy.onnx beside this file
//   const action = await policy.predict(observation);   // one raw observation -> the environment's action
//
// observation: numbers as the environment emits them (an array, nested arrays or a typed array; an
// object of those, by key, for Dict observations). VecNormalize and SB3's action post-processing are
// inside the graph. action: a number for Discrete actions, an array of numbers otherwise.
// Under Node, pass the model's bytes: loadPolicy(new Uint8Array(fs.readFileSync('policy.onnx'))).
import * as ort from './ort/ort.wasm.min.mjs';

/** The policy's inputs and action (shapes without the batch dimension), as the studio exported them. */
export const io = __SB3_STUDIO_IO__;
/** The layout the environment emits each input in (images: often height, width, channels). */
export const envShapes = __SB3_STUDIO_ENV_SHAPES__;
export const ortVersion = ort.env.versions.web;

ort.env.wasm.numThreads = 1;  // threads need a cross-origin-isolated page; one is plenty for a policy
ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;

const size = (shape) => shape.reduce((a, b) => a * b, 1);

function values(observation) {
  if (typeof observation === 'number') return [observation];
  return ArrayBuffer.isView(observation) ? observation : observation.flat(Infinity);
}

/** Copy one observation into a preallocated input, channels last to channels first where the graph wants it. */
function fill(target, observation, spec) {
  const source = values(observation);
  if (source.length !== target.length) {
    throw new RangeError(`${spec.name}: expected ${target.length} numbers, got ${source.length}`);
  }
  const env = envShapes[spec.name];
  if (!spec.channels_first || env.join() === spec.shape.join()) {
    target.set(source);
    return;
  }
  const [c, h, w] = spec.shape;  // the environment gives (h, w, c)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) target[(k * h + y) * w + x] = source[(y * w + x) * c + k];
    }
  }
}

export async function loadPolicy(model = new URL('./policy.onnx', import.meta.url)) {
  const bytes = model instanceof Uint8Array ? model : new Uint8Array(await (await fetch(model)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const feeds = {};
  const inputs = io.inputs.map((spec) => {
    const data = new Float32Array(size(spec.shape));
    feeds[spec.name] = new ort.Tensor('float32', data, [1, ...spec.shape]);
    return { spec, data };
  });

  async function predict(observation) {
    for (const { spec, data } of inputs) fill(data, io.dict_observation ? observation[spec.name] : observation, spec);
    const { action } = await session.run(feeds);
    const result = Array.from(action.data, Number);  // int64 actions arrive as BigInt
    return io.action.shape.length === 0 ? result[0] : result;
  }

  return { predict, io, session, feeds };
}
