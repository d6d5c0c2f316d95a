// tokenizer_bench.js — the peer side of bench/tokenizer_bench.sh: HuggingFace
// tokenizers (Rust, Node binding) encoding the same JSONL texts. Texts go in
// batches of 1000 through encodeBatch (one native call per batch, so the
// JS↔Rust hop is not what we time); run with RAYON_NUM_THREADS=1 for one thread.
//   node tokenizer_bench.js NODE_MODULES TOKENIZER_JSON TEXTS.jsonl
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [nodeModules, tokPath, inPath] = process.argv.slice(2);
  const { Tokenizer } = require(path.resolve(nodeModules, '@anush008/tokenizers'));
  const tok = Tokenizer.fromFile(tokPath);
  const texts = fs.readFileSync(inPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).text);
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const batches = [];
  for (let i = 0; i < texts.length; i += 1000) batches.push(texts.slice(i, i + 1000));
  await tok.encodeBatch(batches[0], { addSpecialTokens: true }); // warm-up
  let tokens = 0, ns = 0n;
  for (const b of batches) { // only the native encodeBatch call is timed, not reading the ids out
    const t0 = process.hrtime.bigint();
    const encs = await tok.encodeBatch(b, { addSpecialTokens: true });
    ns += process.hrtime.bigint() - t0;
    for (const e of encs) tokens += e.getIds().length;
  }
  const s = Number(ns) / 1e9;
  console.error(`hf: ${texts.length} texts, ${bytes} bytes, ${tokens} tokens, encode ${s.toFixed(3)} s: ` +
                `${(tokens / s).toFixed(0)} tokens/s, ${(bytes / s / 1e6).toFixed(2)} MB/s`);
}
main().catch((e) => { console.error(e.stack); process.exit(1); });
