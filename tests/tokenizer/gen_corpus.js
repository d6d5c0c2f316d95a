// gen_corpus.js — the tokenizer parity corpus: the hand-written strings of
// strings.jsonl (every category of the acceptance list), plus generated ones:
// real prose from the Brown corpus (single sentences and multi-line
// paragraphs), long words, and random Unicode mixes from a fixed seed.
//   node gen_corpus.js STRINGS_JSONL BROWN_DIR > corpus.jsonl
'use strict';
const fs = require('fs');
const path = require('path');
const { sentences } = require(path.join(__dirname, '..', '..', 'tools', 'brown_text.js'));

const [stringsPath, brownDir] = process.argv.slice(2);
const out = fs.readFileSync(stringsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).text);

// Real prose: every 40th sentence of the first ~600 KB, and some paragraphs.
const sents = sentences(brownDir, 600000);
for (let i = 0; i < sents.length && out.length < 420; i += 40) out.push(sents[i]);
for (let i = 0; i + 6 < sents.length && i < 6000; i += 500) out.push(sents.slice(i, i + 6).join('\n'));
out.push(sents.slice(100, 140).join(' ')); // one long paragraph
out.push(sents.slice(200, 220).join('\r\n'));

// xorshift32 with a fixed seed: the same corpus on every run.
let state = 0x9e3779b9;
function rnd(n) {
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state % n;
}
const pools = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x00, 0x1f], [0xa0, 0x24f], [0x300, 0x36f], [0x370, 0x3ff],
  [0x400, 0x4ff], [0x590, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f], [0x1100, 0x11ff], [0x2000, 0x206f],
  [0x20a0, 0x20cf], [0x2190, 0x22ff], [0x3000, 0x30ff], [0x4e00, 0x4fff], [0xac00, 0xad00], [0xfe00, 0xfe0f],
  [0xff00, 0xffef], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x1f1e6, 0x1f1ff], [0x10000, 0x1007f], [0xe0000, 0xe007f],
];
for (let k = 0; k < 60; k++) {
  let s = '';
  const n = 1 + rnd(24);
  for (let i = 0; i < n; i++) {
    const [a, b] = pools[rnd(pools.length)];
    let cp = a + rnd(b - a + 1);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
    s += String.fromCodePoint(cp);
    if (rnd(5) === 0) s += ' ';
  }
  out.push(s);
}
// Long words and runs.
out.push('ab'.repeat(2000), 'a'.repeat(5000), 'Ж'.repeat(500), '🙂'.repeat(300), ' '.repeat(700) + 'x', 'word '.repeat(400));
out.push(Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x4e00 + i * 7)).join(''));

process.stdout.write(out.map((t) => JSON.stringify({ text: t })).join('\n') + '\n');
