#!/usr/bin/env node
// llamacpp_check.js — llama.cpp itself (npm node-llama-cpp@3.21.1 and its
// prebuilt CPU build, fetched by tools/fetch_testdata.sh into DEST/llamacpp)
// loads one of our GGUF exports and is compared with our engine:
//   node tools/llamacpp_check.js NODE_MODULES probe
//       loads the prebuilt binary (never builds or downloads), prints its release
//   node tools/llamacpp_check.js NODE_MODULES compare MODEL.gguf --ids "1 2 3" --ours LOGITS.safetensors
//        [--lora ADAPTER.gguf [--lora-scale S]] --rel-tol R [--min-top1 F] [--wrong FILE]... [--wrong-lora-scale S]...
//       llama.cpp's next-token distribution at every position of --ids vs ours
//       (`your_ai forward --out`: tensor "logits" F32 [T, V]); prints JSON metrics:
//       max |Δ log p| over the whole vocabulary (where neither p underflows below 1e-30), max |Δp|,
//       KL(ours ‖ llama.cpp) and the top-1 agreement. Fails when max |Δ log p| > R · max |our logit|
//       or the top-1 agreement < F (default 1). Negative cases, each of which must FAIL
//       the same check (so the check can fail): --wrong FILE, our logits of a model
//       made wrong on purpose; --wrong-lora-scale S, llama.cpp with the adapter at scale S.
//   node tools/llamacpp_check.js NODE_MODULES logprobs MODEL.gguf --ids "1 2 3" --out OUT.f32
//       llama.cpp's next-token log-probabilities at every position of --ids, written as
//       little-endian float32 [T, V] (row t = log p(next | ids[0..t]); -inf where llama.cpp
//       gives no probability), for tools/gguf_ref.py compare-logprobs (the K-quant checks).
//   node tools/llamacpp_check.js NODE_MODULES generate MODEL.gguf --ids "1 2 3" --max-tokens N
//        [--lora ADAPTER.gguf [--lora-scale S]]
//       greedy decoding until llama.cpp's own end-of-generation test (llama_vocab_is_eog:
//       the GGUF's eos/eot/eom ids and the end-of-turn tokens it recognises) or N
//       tokens; prints {"ids":[...],"stop":"eog"|"max-tokens","eog_id":…,"eos":…,"eot":…}.
// Exit 1 on a failed check or a load error (the message names the file), 2 on usage.
"use strict";
const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

const USAGE = "usage: llamacpp_check.js NODE_MODULES probe | compare MODEL.gguf --ids LIST --ours FILE --rel-tol R [--min-top1 F] [--lora F [--lora-scale S]] [--wrong FILE]... [--wrong-lora-scale S]... | logprobs MODEL.gguf --ids LIST --out OUT.f32 | generate MODEL.gguf --ids LIST --max-tokens N [--lora F [--lora-scale S]]";

function usage(msg) {
  console.error(`llamacpp_check: ${msg}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(rest) {
  const o = { loraScale: 1, minTop1: 1, wrong: [], wrongScales: [] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i], v = () => (i + 1 < rest.length ? rest[++i] : usage(`${a} needs a value`));
    if (a === "--ids") o.ids = v().trim().split(/[\s,]+/).map(Number);
    else if (a === "--ours") o.ours = v();
    else if (a === "--out") o.out = v();
    else if (a === "--lora") o.lora = v();
    else if (a === "--lora-scale") o.loraScale = Number(v());
    else if (a === "--rel-tol") o.relTol = Number(v());
    else if (a === "--min-top1") o.minTop1 = Number(v());
    else if (a === "--max-tokens") o.maxTokens = Number(v());
    else if (a === "--wrong") o.wrong.push(v());
    else if (a === "--wrong-lora-scale") o.wrongScales.push(Number(v()));
    else usage(`unknown argument '${a}'`);
  }
  if (o.ids && o.ids.some((x) => !Number.isInteger(x) || x < 0)) usage("--ids: non-negative integers expected");
  return o;
}

// tensor "logits" of a safetensors file: F32 [T, V] (or [1, T, V]) → {T, V, data}
function readLogits(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  const t = header.logits;
  if (!t) throw new Error(`${file}: no tensor "logits"`);
  if (t.dtype !== "F32") throw new Error(`${file}: logits dtype ${t.dtype}, expected F32`);
  const shape = t.shape.filter((d, i) => !(i === 0 && t.shape.length === 3 && d === 1));
  if (shape.length !== 2) throw new Error(`${file}: logits shape [${t.shape}], expected [T, V]`);
  const [a, b] = t.data_offsets;
  const bytes = buf.subarray(8 + n + a, 8 + n + b);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { T: shape[0], V: shape[1], data };
}

async function load(nodeModules, modelPath, o) {
  const entry = path.join(path.resolve(nodeModules), "node-llama-cpp", "dist", "index.js");
  if (!fs.existsSync(entry)) throw new Error(`${entry}: node-llama-cpp is not installed (tools/fetch_testdata.sh DEST llamacpp)`);
  const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
  // The prebuilt CPU binary only: never build from source, never download.
  const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, progressLogs: false,
                                 logLevel: LlamaLogLevel.error, maxThreads: 2 });
  if (!modelPath) return { llama };
  if (!fs.existsSync(modelPath)) throw new Error(`${modelPath}: no such file`);
  const model = await llama.loadModel({ modelPath: path.resolve(modelPath), gpuLayers: 0, useMmap: false, checkTensors: true });
  const n = (o.ids ? o.ids.length : 0) + (o.maxTokens || 0) + 8;
  const contextSize = Math.max(64, n);
  const contextOptions = {
    contextSize, batchSize: contextSize, threads: 2, sequences: 1, flashAttention: false,
    // F32 KV cache: llama.cpp's default F16 cache would round K and V, an error of its own, not of our file
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
  };
  const context = await model.createContext({ ...contextOptions,
    lora: o.lora ? { adapters: [{ filePath: path.resolve(o.lora), scale: o.loraScale }] } : undefined });
  return { llama, model, context, contextOptions, sequence: context.getSequence() };
}

// llama.cpp's next-token probabilities at every position of ids: [T] Maps id → p, highest first.
async function llamaProbs(sequence, ids) {
  await sequence.clearHistory();
  const res = await sequence.controlledEvaluate(ids.map((id) => [id, { generateNext: { probabilities: true } }]));
  return ids.map((_, t) => {
    const probs = res[t] && res[t].next.probabilities;
    if (!probs) throw new Error(`llama.cpp returned no probabilities at position ${t}`);
    return probs;
  });
}

// Metrics of our logits file against llama.cpp's probabilities, and the verdict under o's tolerance.
function metrics(file, ref, o) {
  const ours = readLogits(file);
  if (ours.T !== ref.length) throw new Error(`${file}: ${ours.T} positions, --ids has ${ref.length}`);
  const V = ours.V;
  let maxLogit = 0;
  for (let i = 0; i < ours.data.length; i++) maxLogit = Math.max(maxLogit, Math.abs(ours.data[i]));
  const tol = o.relTol * maxLogit;
  let maxDlogp = 0, maxDp = 0, maxKl = 0, top1 = 0, worst = null;
  for (let t = 0; t < ours.T; t++) {
    const probs = ref[t];
    if (probs.size !== V) throw new Error(`llama.cpp vocabulary ${probs.size}, ${file} logits ${V} wide`);
    const row = ours.data.subarray(t * V, (t + 1) * V);
    let mx = -Infinity, s = 0, ourTop = 0;
    for (let i = 0; i < V; i++) if (row[i] > mx) { mx = row[i]; ourTop = i; }
    for (let i = 0; i < V; i++) s += Math.exp(row[i] - mx);
    const lse = mx + Math.log(s);
    const refTop = probs.keys().next().value; // the map is sorted by probability, highest first
    let kl = 0, z = 0;
    for (const pr of probs.values()) z += pr; // llama.cpp normalises in float: renormalise for the KL
    for (const [id, pr] of probs) {
      const lp = row[id] - lse, p = Math.exp(lp);
      if (pr > 0) kl += p * (lp - Math.log(pr / z));
      maxDp = Math.max(maxDp, Math.abs(p - pr));
      if (p >= 1e-30 && pr >= 1e-30) { // both normal floats: llama.cpp's expf/sum keep ~1e-7 relative precision
        const d = Math.abs(lp - Math.log(pr));
        if (d > maxDlogp) { maxDlogp = d; worst = { position: t, id, ours: lp, llamacpp: Math.log(pr) }; }
      }
    }
    maxKl = Math.max(maxKl, kl);
    if (refTop === ourTop) top1++;
  }
  const agree = top1 / ours.T;
  const m = { file, positions: ours.T, vocab: V, max_dlogp: maxDlogp, max_dp: maxDp, max_kl: maxKl, top1_agreement: agree,
              max_abs_logit: maxLogit, tol_dlogp: tol, min_top1: o.minTop1, worst };
  m.ok = maxDlogp <= tol && agree >= o.minTop1;
  m.why = `max |Δ log p| ${maxDlogp.toExponential(3)} (tol ${o.relTol} × max |logit| ${maxLogit.toFixed(3)} = ` +
          `${tol.toExponential(3)}), top-1 agreement ${agree.toFixed(3)} (min ${o.minTop1})`;
  return m;
}

async function compare(env, o) {
  let rc = 0;
  const ref = await llamaProbs(env.sequence, o.ids);
  const m = metrics(o.ours, ref, o);
  console.log(JSON.stringify(m));
  if (!m.ok) { console.error(`FAIL: llama.cpp vs ours (${o.ours}): ${m.why}`); rc = 1; }
  else console.log(`ok llama.cpp agrees with ${o.ours}: ${m.why}`);
  // Negative cases: each must be rejected, or the comparison could not fail.
  const wrong = o.wrong.map((f) => ["our logits " + f, () => metrics(f, ref, o)]);
  for (const scale of o.wrongScales)
    wrong.push([`the adapter at scale ${scale}`, async () => {
      const ctx = await env.model.createContext({ ...env.contextOptions,
        lora: { adapters: [{ filePath: path.resolve(o.lora), scale }] } });
      const r = await llamaProbs(ctx.getSequence(), o.ids);
      await ctx.dispose();
      return metrics(o.ours, r, o);
    }]);
  for (const [what, run] of wrong) {
    const w = await run();
    console.log(JSON.stringify({ negative: what, ...w }));
    if (w.ok) { console.error(`FAIL: negative case (${what}) passed: ${w.why}`); rc = 1; }
    else console.log(`ok negative case (${what}) rejected: ${w.why}`);
  }
  return rc;
}

async function logprobs(env, o) {
  const ref = await llamaProbs(env.sequence, o.ids);
  const V = env.model.tokens.vocabSize ?? ref[0].size;
  const out = new Float32Array(o.ids.length * V).fill(-Infinity);
  ref.forEach((probs, t) => {
    let sum = 0;
    for (const [id, p] of probs) {
      if (id < 0 || id >= V) throw new Error(`token ${id} outside the vocabulary of ${V}`);
      out[t * V + id] = Math.log(p);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3) throw new Error(`position ${t}: probabilities sum to ${sum}`);
  });
  fs.writeFileSync(o.out + ".tmp", Buffer.from(out.buffer)); // beside, then renamed: never a partial file
  fs.renameSync(o.out + ".tmp", o.out);
  console.log(`llama.cpp: ${o.ids.length} positions x ${V} log-probs -> ${o.out}`);
  return 0;
}

async function generate(env, o) {
  const out = [];
  let stop = "max-tokens", eogId = null;
  let next = o.ids.map((id, i) => (i === o.ids.length - 1 ? [id, { generateNext: { token: true } }] : id));
  while (out.length < o.maxTokens) {
    const res = await env.sequence.controlledEvaluate(next);
    const tok = res[next.length - 1] && res[next.length - 1].next.token;
    if (tok == null) throw new Error("llama.cpp sampled no token");
    if (env.model.isEogToken(tok)) { stop = "eog"; eogId = tok; break; }
    out.push(tok);
    next = [[tok, { generateNext: { token: true } }]];
  }
  console.log(JSON.stringify({ ids: out, stop, eog_id: eogId, eos: env.model.tokens.eos, eot: env.model.tokens.eot,
                               text: env.model.detokenize(out, true) }));
  return 0;
}

async function main() {
  const [nodeModules, mode, ...rest] = process.argv.slice(2);
  if (!nodeModules || !mode) usage("NODE_MODULES and a mode are required");
  if (mode === "probe") {
    const { llama } = await load(nodeModules, null, {});
    console.log(JSON.stringify({ gpu: llama.gpu, build: llama.buildType, release: llama.llamaCppRelease }));
    return 0;
  }
  if (!["compare", "logprobs", "generate"].includes(mode)) usage(`unknown mode '${mode}'`);
  const file = rest.shift();
  const o = parseArgs(rest);
  if (!file || !o.ids) usage(`${mode} needs MODEL.gguf and --ids`);
  if (mode === "compare" && (!o.ours || !(o.relTol > 0))) usage("compare needs --ours and --rel-tol > 0");
  if (mode === "logprobs" && !o.out) usage("logprobs needs --out");
  if (mode === "generate" && !(o.maxTokens > 0)) usage("generate needs --max-tokens > 0");
  const env = await load(nodeModules, file, o);
  return mode === "compare" ? compare(env, o) : mode === "logprobs" ? logprobs(env, o) : generate(env, o);
}

main().then((rc) => process.exit(rc), (e) => {
  console.error(`llamacpp_check: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
