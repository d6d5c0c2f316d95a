// compare.js — compares our JSONL output with the reference's, line by line,
// as JSON values (string escapes may differ). Prints each mismatch with its
// input, then exits 1 if there was any.
//   node compare.js WHAT INPUT.jsonl OURS.jsonl REF.jsonl
'use strict';
const fs = require('fs');
const [what, inPath, oursPath, refPath] = process.argv.slice(2);
const read = (p) => fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.trim() !== '');
const input = read(inPath), ours = read(oursPath), ref = read(refPath);
let bad = 0;
if (ours.length !== ref.length) {
  console.error(`${what}: ${ours.length} output lines, reference has ${ref.length}`);
  bad++;
}
for (let i = 0; i < Math.min(ours.length, ref.length); i++) {
  const a = JSON.stringify(JSON.parse(ours[i])), b = JSON.stringify(JSON.parse(ref[i]));
  if (a !== b) {
    if (bad < 15) console.error(`${what}: line ${i + 1} differs\n  input: ${input[i].slice(0, 300)}\n  ours:  ${a.slice(0, 400)}\n  ref:   ${b.slice(0, 400)}`);
    bad++;
  }
}
console.log(`${what}: ${ref.length} lines, ${bad} mismatches`);
process.exit(bad ? 1 : 0);
