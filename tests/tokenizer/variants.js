// variants.js — tokenizer.json variants that exercise what the three real
// files do not: added tokens with lstrip/rstrip/single_word/normalized, unk
// fusing without byte fallback, every Split behavior and invert, ByteLevel
// with use_regex/add_prefix_space, NFKC/NFD. Each variant is the fetched file
// with one component swapped; parity.sh compares us with HF on each.
//   node variants.js TESTDATA_DIR OUT_DIR   → OUT_DIR/<name>/tokenizer.json, prints the names
'use strict';
const fs = require('fs');
const path = require('path');
const [td, outDir] = process.argv.slice(2);
const load = (t) => JSON.parse(fs.readFileSync(path.join(td, t, 'models', 'tokenizer.json'), 'utf8'));
const added = (id, content, o) => Object.assign(
  { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false }, o);
const variants = {};

let t = load('llama2');
t.added_tokens.push(added(32000, '<mask>', { special: true, lstrip: true, rstrip: true }),
                    added(32001, 'hello', { normalized: true, single_word: true }),
                    added(32002, '[SEP]', { rstrip: true }),
                    added(32003, 'wor', { normalized: true }),
                    added(32004, 'ing', { single_word: true }));
variants['llama2-added'] = t;

t = load('llama2');
t.model.byte_fallback = false;
variants['llama2-unk'] = t;

// The newer SentencePiece-style conversions: Metaspace instead of Prepend/Replace.
const meta = (o) => Object.assign({ type: 'Metaspace', replacement: '\u2581' }, o);
t = load('llama2');
t.normalizer = null;
t.pre_tokenizer = meta({ prepend_scheme: 'first', split: false });
t.decoder = { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, meta({ prepend_scheme: 'first', split: false }), { type: 'Fuse' }] };
variants['llama2-metaspace-first'] = t;
t = load('llama2');
t.normalizer = null;
t.pre_tokenizer = meta({ prepend_scheme: 'always', split: true });
t.decoder = { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }, meta({ prepend_scheme: 'always', split: true })] };
variants['llama2-metaspace-always-split'] = t;
t = load('llama2');
t.normalizer = null;
t.pre_tokenizer = meta({ add_prefix_space: true });
t.decoder = meta({ prepend_scheme: 'never', split: true });
variants['llama2-metaspace-legacy'] = t;

t = load('qwen3');
t.normalizer = { type: 'NFKC' };
t.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
variants['qwen3-bytelevel-regex'] = t;

t = load('qwen3');
t.normalizer = { type: 'NFD' };
t.added_tokens.push(added(151669, ' world', { normalized: true }), added(151670, 'ever', { lstrip: true, special: true }));
variants['qwen3-nfd-added'] = t;

for (const [behavior, invert] of [['Removed', true], ['MergedWithPrevious', false], ['MergedWithNext', true],
                                   ['Contiguous', false]]) {
  t = load('llama3');
  t.pre_tokenizer.pretokenizers[0].behavior = behavior;
  t.pre_tokenizer.pretokenizers[0].invert = invert;
  variants[`llama3-${behavior}${invert ? '-invert' : ''}`] = t;
}
t = load('llama3');
t.pre_tokenizer.pretokenizers[0].pattern = { String: ' ' };
t.pre_tokenizer.pretokenizers[0].behavior = 'MergedWithNext';
variants['llama3-string-split'] = t;

for (const [name, tok] of Object.entries(variants)) {
  fs.mkdirSync(path.join(outDir, name), { recursive: true });
  fs.writeFileSync(path.join(outDir, name, 'tokenizer.json'), JSON.stringify(tok));
  console.log(name);
}
