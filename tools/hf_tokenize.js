// hf_tokenize.js — the reference: HuggingFace `tokenizers` (Rust, through the
// Node binding @anush008/tokenizers) run over a JSONL batch, writing what
// `your_ai tokenize --jsonl` writes, so tests can compare the two.
//   node tools/hf_tokenize.js NODE_MODULES TOKENIZER_JSON MODES IN.jsonl OUT_PREFIX
// MODES: comma-separated, each written to OUT_PREFIX.MODE:
//   encode            {"ids": [...]} per {"text"} line, special tokens added
//   encode-nospecial  the same without special tokens
//   decode            {"text": ...}: HF decode of the `encode` ids, keeping special tokens
//   decode-skip       the same, skipping special tokens
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [nodeModules, tokPath, modes, inPath, outPrefix] = process.argv.slice(2);
  const { Tokenizer } = require(path.resolve(nodeModules, '@anush008/tokenizers'));
  const tok = Tokenizer.fromFile(tokPath);
  const texts = fs.readFileSync(inPath, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).text);
  const encoded = {};
  const encode = async (special) => {
    const key = special ? 'encode' : 'encode-nospecial';
    if (!encoded[key]) {
      encoded[key] = [];
      for (const t of texts) encoded[key].push(Array.from((await tok.encode(t, null, { addSpecialTokens: special })).getIds()));
    }
    return encoded[key];
  };
  for (const mode of modes.split(',')) {
    let lines;
    if (mode === 'encode' || mode === 'encode-nospecial') {
      lines = (await encode(mode === 'encode')).map((ids) => JSON.stringify({ ids }));
    } else if (mode === 'decode' || mode === 'decode-skip') {
      lines = [];
      for (const ids of await encode(true)) lines.push(JSON.stringify({ text: await tok.decode(ids, mode === 'decode-skip') }));
    } else {
      throw new Error('unknown mode ' + mode);
    }
    fs.writeFileSync(`${outPrefix}.${mode}`, lines.join('\n') + (lines.length ? '\n' : ''));
  }
}

main().catch((e) => { console.error('hf_tokenize.js: ' + e.stack); process.exit(1); });
