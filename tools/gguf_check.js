#!/usr/bin/env node
// gguf_check.js — parses one of our GGUF exports with the HuggingFace GGUF
// parser (npm @huggingface/gguf, fetched by tools/fetch_testdata.sh into
// DEST/gguf/node_modules) and checks it against expectations:
//   node tools/gguf_check.js NODE_MODULES FILE.gguf [--dump DUMP.json] [KEY=VALUE ...]
// KEY=VALUE: the metadata value must equal VALUE (numbers compared as numbers,
// f32 within 1e-6 relative); KEY=#N: an array of N elements.
// --dump: our reader's view (tests/export/gguf_dump) must agree with the npm
// parser on every key, value, array, tensor name, shape, type and offset.
// Prints the parsed metadata (arrays abbreviated) and exits 1 on any mismatch.
"use strict";
const path = require("path");
const fs = require("fs");

async function main() {
  const [nodeModules, file, ...rest] = process.argv.slice(2);
  if (!nodeModules || !file) {
    console.error("usage: gguf_check.js NODE_MODULES FILE.gguf [--dump DUMP.json] [KEY=VALUE ...]");
    process.exit(2);
  }
  const { gguf } = require(path.join(path.resolve(nodeModules), "@huggingface", "gguf"));
  const { metadata, tensorInfos, tensorDataOffset } = await gguf(path.resolve(file), { allowLocalFile: true });
  const errors = [];
  const show = {};
  for (const [k, v] of Object.entries(metadata)) {
    show[k] = Array.isArray(v) ? `[${v.length} items: ${JSON.stringify(v.slice(0, 3))}…]` : typeof v === "bigint" ? v.toString() : v;
  }
  console.log(JSON.stringify(show, null, 1));
  console.log(`${tensorInfos.length} tensors, data at ${tensorDataOffset}`);
  if (metadata.version !== 3) errors.push(`version ${metadata.version}`);
  if (Number(tensorDataOffset) % 32 !== 0) errors.push(`data offset ${tensorDataOffset} not aligned`);
  // @huggingface/gguf decodes strings with TextDecoder's default BOM handling,
  // which drops a leading U+FEFF (e.g. the Mistral vocabulary's token 31759 "\uFEFF"
  // reads as ""): compare strings with a leading BOM removed on both sides.
  const num = (v) => (typeof v === "bigint" ? Number(v) : typeof v === "string" ? v.replace(/^\uFEFF/, "") : v);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--dump") {
      const dump = JSON.parse(fs.readFileSync(rest[++i], "utf8"));
      if (Number(tensorDataOffset) !== dump.data_offset) errors.push(`dump: data offset ${dump.data_offset} != ${tensorDataOffset}`);
      for (const kv of dump.kv) {
        if (!(kv.key in metadata)) { errors.push(`dump key ${kv.key} not seen by @huggingface/gguf`); continue; }
        const v = metadata[kv.key];
        const same = Array.isArray(kv.value)
          ? Array.isArray(v) && v.length === kv.value.length && v.every((x, j) => num(x) === num(kv.value[j]) ||
              (typeof kv.value[j] === "number" && Math.abs(num(x) - kv.value[j]) <= 1e-7 * Math.abs(kv.value[j])))
          : num(v) === num(kv.value) || (typeof kv.value === "number" && Math.abs(num(v) - kv.value) <= 1e-7 * Math.abs(kv.value));
        if (!same) errors.push(`dump: ${kv.key} differs from @huggingface/gguf`);
      }
      const nKv = Object.keys(metadata).length - 3; // minus version, tensor_count, kv_count
      if (nKv !== dump.kv.length) errors.push(`dump: ${dump.kv.length} keys, @huggingface/gguf ${nKv}`);
      if (dump.tensors.length !== tensorInfos.length) errors.push("dump: tensor count differs");
      dump.tensors.forEach((t, j) => {
        const u = tensorInfos[j];
        if (!u || u.name !== t.name || u.dtype !== t.type || Number(u.offset) !== t.offset ||
            JSON.stringify(u.shape.map(Number)) !== JSON.stringify(t.dims))
          errors.push(`dump: tensor ${t.name} differs from @huggingface/gguf`);
      });
      continue;
    }
    const eq = rest[i].indexOf("=");
    const key = rest[i].slice(0, eq), want = rest[i].slice(eq + 1);
    if (!(key in metadata)) { errors.push(`missing key ${key}`); continue; }
    const v = metadata[key];
    if (want.startsWith("#")) {
      if (!Array.isArray(v) || v.length !== Number(want.slice(1))) errors.push(`${key}: ${Array.isArray(v) ? v.length : "not an array"} items, expected ${want.slice(1)}`);
    } else if (typeof v === "string" || typeof v === "boolean") {
      if (String(v) !== want) errors.push(`${key}: ${v} != ${want}`);
    } else if (Math.abs(num(v) - Number(want)) > 1e-6 * Math.abs(Number(want))) {
      errors.push(`${key}: ${v} != ${want}`);
    }
  }
  for (const e of errors) console.log("FAIL", e);
  if (errors.length) process.exit(1);
  console.log(`ok @huggingface/gguf parsed ${file}`);
}
main().catch((e) => { console.error("FAIL", e.message); process.exit(1); });
