#!/usr/bin/env node
// llamacpp_logprobs.js — next-token log-probabilities from llama.cpp itself
// (node-llama-cpp's prebuilt CPU build, no GPU, no sampling options) for every
// position of a token-id sequence, so a GGUF file we wrote can be checked in the
// runtime that users load it in (tools/gguf_ref.py compare-logprobs).
//   node llamacpp_logprobs.js NODE_MODULES MODEL.gguf "ID ID ..." OUT.f32
// OUT.f32: little-endian float32 [n_ids, n_vocab], row i = log p(next | ids[0..i]).
// Exit 1 when the model does not load or the output is not a distribution.
"use strict";
const path = require("path");
const fs = require("fs");

async function main() {
  const [nodeModules, modelPath, idsArg, outPath] = process.argv.slice(2);
  if (!outPath) {
    console.error('usage: llamacpp_logprobs.js NODE_MODULES MODEL.gguf "ID ID ..." OUT.f32');
    process.exit(2);
  }
  const {getLlama, LlamaLogLevel} = await import(path.join(path.resolve(nodeModules), "node-llama-cpp", "dist", "index.js"));
  const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
  const model = await llama.loadModel({modelPath, gpuLayers: 0});
  const ids = idsArg.trim().split(/\s+/).map(Number);
  const context = await model.createContext({contextSize: Math.max(64, ids.length), batchSize: Math.max(64, ids.length), threads: 2});
  const seq = context.getSequence();
  const res = await seq.controlledEvaluate(ids.map((t) => [t, {generateNext: {probabilities: true}}]));
  const nVocab = model.tokens.vocabSize ?? res[0].next.probabilities.size;
  const out = new Float32Array(ids.length * nVocab).fill(-Infinity);
  for (let i = 0; i < ids.length; i++) {
    const probs = res[i]?.next?.probabilities;
    if (!probs) throw new Error(`${modelPath}: no probabilities for position ${i}`);
    let sum = 0;
    for (const [tok, p] of probs) {
      if (tok < 0 || tok >= nVocab) throw new Error(`${modelPath}: token ${tok} outside the vocabulary of ${nVocab}`);
      out[i * nVocab + tok] = Math.log(p);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3) throw new Error(`${modelPath}: position ${i}: probabilities sum to ${sum}`);
  }
  fs.writeFileSync(outPath + ".tmp", Buffer.from(out.buffer));
  fs.renameSync(outPath + ".tmp", outPath);
  console.log(`llama.cpp ${path.basename(modelPath)}: ${ids.length} positions x ${nVocab} log-probs -> ${outPath}`);
  await context.dispose();
  await model.dispose();
}

main().catch((e) => {
  console.error(`llamacpp_logprobs: ${e.message}`);
  process.exit(1);
});
