// data_reference.js — an independent reference for the training data loader's
// token sequences and loss masks (SPEC §5.4, §5.5), built on HuggingFace
// `tokenizers` (Node binding @anush008/tokenizers) and its own re-implementation
// of the rendering rules and of the plain-message chat templates, then compared
// with what `your_ai inspect-data --json` printed, sample by sample, token by token
// (a turn ends where the template's render of the conversation so far ends, or at
// its end-of-turn token when that render is not a prefix of the whole conversation's),
// including each sample's kind (text, completions, chat:messages, chat:sharegpt),
// sample weight (weight / loss_weight, 1 when absent; 0 = dropped) and supervised spans.
//
//   node tools/data_reference.js NODE_MODULES MODEL_DIR DATA.jsonl INSPECT.jsonl [options]
//   options: --max-seq-length N (1024) --mask-prompt on|off (on) --train-on final|all-assistant
//            --no-append-eos --chat-format llama3|mistral|chatml|none (none)
// Exits 1 with the first differences when the loader disagrees with the reference.
'use strict';
const fs = require('fs');
const path = require('path');

function parseArgs(argv) {
  const o = { maxSeq: 1024, maskPrompt: true, trainOn: 'final', appendEos: true, chat: 'none' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--max-seq-length') o.maxSeq = parseInt(argv[++i], 10);
    else if (a === '--mask-prompt') o.maskPrompt = argv[++i] === 'on';
    else if (a === '--train-on') o.trainOn = argv[++i];
    else if (a === '--no-append-eos') o.appendEos = false;
    else if (a === '--chat-format') o.chat = argv[++i];
    else throw new Error('unknown option ' + a);
  }
  return o;
}

// The templates' output for plain system/user/assistant messages, written from
// the Jinja sources: Mistral v0.1 ([INST]) and ChatML.
function render(fmt, msgs, genPrompt, bos, eos, alwaysGen) {
  if (fmt === 'llama3') {
    // content | trim is Python str.strip(); the original Llama-3 template emits the
    // assistant header whether or not a generation prompt is asked for (alwaysGen)
    let s = '';
    msgs.forEach((m, i) => {
      s += (i === 0 ? bos : '') + '<|start_header_id|>' + m.role + '<|end_header_id|>\n\n' + m.content.trim() + '<|eot_id|>';
    });
    return genPrompt || alwaysGen ? s + '<|start_header_id|>assistant<|end_header_id|>\n\n' : s;
  }
  if (fmt === 'mistral') {
    let s = bos, system = null;
    for (const m of msgs) {
      if (m.role === 'system') system = m.content;
      else if (m.role === 'user') {
        s += '[INST] ' + (system !== null ? system + '\n\n' : '') + m.content + ' [/INST]';
        system = null;
      } else s += m.content + eos;
    }
    return s; // the template has no generation prompt
  }
  if (fmt === 'chatml') {
    let s = '';
    for (const m of msgs) s += '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n';
    return genPrompt ? s + '<|im_start|>assistant\n' : s;
  }
  throw new Error('no chat template ' + fmt);
}

async function main() {
  const [nodeModules, modelDir, dataPath, inspectPath, ...rest] = process.argv.slice(2);
  const o = parseArgs(rest);
  const { Tokenizer } = require(path.join(nodeModules, '@anush008/tokenizers'));
  const tok = Tokenizer.fromFile(path.join(modelDir, 'tokenizer.json'));
  const cfg = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8'));
  const tokStr = (t) => (t === null || t === undefined ? null : typeof t === 'string' ? t : t.content);
  const bosStr = tokStr(cfg.bos_token) || '', eosStr = tokStr(cfg.eos_token);
  const eos = eosStr ? tok.tokenToId(eosStr) : null;
  const alwaysGen = typeof cfg.chat_template === 'string' && !cfg.chat_template.includes('add_generation_prompt');
  const encode = async (s, special) => Array.from((await tok.encode(s, null, { addSpecialTokens: special })).getIds());

  // ShareGPT speakers as FastChat / LLaMA-Factory name them
  const SHAREGPT = { system: 'system', human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant' };
  const chatTurns = (obj) => {
    if (obj.messages) return obj.messages;
    const turns = obj.conversations.map((t) => {
      if (!(t.from in SHAREGPT)) throw new Error('unknown ShareGPT speaker ' + t.from);
      return { role: SHAREGPT[t.from], content: t.value };
    });
    return obj.system ? [{ role: 'system', content: obj.system }, ...turns] : turns;
  };

  // line number → { ids, sup } (before truncation)
  const ref = new Map();
  const lines = fs.readFileSync(dataPath, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const obj = JSON.parse(lines[i]);
    let ids = [], sup = [];
    const push = (v, s) => { for (const id of v) { ids.push(id); sup.push(s); } };
    const isChat = obj.messages !== undefined || obj.conversations !== undefined;
    const kind = obj.messages !== undefined ? 'chat:messages' : obj.conversations !== undefined ? 'chat:sharegpt'
      : obj.prompt !== undefined && obj.completion !== undefined ? 'completions' : 'text';
    const weight = obj.weight ?? obj.loss_weight ?? 1;
    if (isChat || (obj.prompt !== undefined && o.chat !== 'none')) {
      const msgs = isChat ? chatTurns(obj) : [{ role: 'user', content: obj.prompt }, { role: 'assistant', content: obj.completion }];
      ids = await encode(render(o.chat, msgs, false, bosStr, eosStr, alwaysGen), false);
      sup = ids.map(() => (o.maskPrompt ? 0 : 1));
      if (o.maskPrompt) {
        const last = msgs.map((m) => m.role).lastIndexOf('assistant');
        for (let k = 0; k < msgs.length; k++) {
          if (msgs[k].role !== 'assistant' || (k !== last && o.trainOn !== 'all-assistant')) continue;
          const a = (await encode(render(o.chat, msgs.slice(0, k), true, bosStr, eosStr, alwaysGen), false)).length;
          const upto = await encode(render(o.chat, msgs.slice(0, k + 1), false, bosStr, eosStr, alwaysGen), false);
          let e = upto.length;
          // a render of the conversation so far that is not a prefix of the whole one (the
          // original Llama 3 template's trailing assistant header): the turn ends after its
          // end-of-turn token (ChatML: and the "\n" after it)
          if (k + 1 < msgs.length && !upto.every((id, t) => id === ids[t])) {
            const eotStr = o.chat === 'llama3' ? '<|eot_id|>' : o.chat === 'mistral' ? eosStr : '<|im_end|>';
            const eot = tok.tokenToId(eotStr);
            const nl = (await encode('\n', false))[0];
            e = ids.indexOf(eot, a) + 1;
            if (o.chat === 'chatml' && ids[e] === nl) e++;
          }
          for (let t = a; t < Math.min(e, ids.length); t++) sup[t] = 1;
        }
      }
    } else if (obj.prompt !== undefined) {
      push(await encode(obj.prompt, true), o.maskPrompt ? 0 : 1);
      push(await encode(obj.completion, false), 1);
      if (eos !== null) push([eos], 1);
    } else {
      push(await encode(obj.text, true), 1);
      if (o.appendEos && eos !== null && ids[ids.length - 1] !== eos) push([eos], 1);
    }
    ids = ids.slice(0, o.maxSeq);
    sup = sup.slice(0, o.maxSeq);
    const spans = [];
    for (let t = 1; t < sup.length; t++)
      if (sup[t]) {
        if (spans.length && spans[spans.length - 1][1] === t) spans[spans.length - 1][1] = t + 1;
        else spans.push([t, t + 1]);
      }
    const nSup = weight > 0 ? sup.slice(1).reduce((x, y) => x + y, 0) : 0; // weight 0: dropped like n_sup 0
    ref.set(i + 1, { ids, sup, nSup, kind, weight, spans });
  }

  const errors = [];
  const fail = (msg) => { if (errors.length < 20) errors.push(msg); };
  const seen = new Set();
  let nSamples = 0;
  for (const line of fs.readFileSync(inspectPath, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const b = JSON.parse(line);
    const covered = b.ids.map((row) => row.map(() => false));
    const docsInRow = b.ids.map(() => 0);
    for (const s of b.samples) {
      const seg = docsInRow[s.row]++; // samples come in row-major order: the k-th document of a row is segment k
      nSamples++;
      seen.add(s.line);
      const r = ref.get(s.line);
      const where = `batch ${b.batch} row ${s.row} (${path.basename(s.file)}:${s.line})`;
      if (!r) { fail(`${where}: no reference for this line`); continue; }
      if (s.len !== r.ids.length) fail(`${where}: ${s.len} tokens, reference ${r.ids.length}`);
      if (s.n_sup !== r.nSup) fail(`${where}: ${s.n_sup} supervised, reference ${r.nSup}`);
      if (s.kind !== r.kind) fail(`${where}: kind ${s.kind}, reference ${r.kind}`);
      if (s.weight !== r.weight) fail(`${where}: weight ${s.weight}, reference ${r.weight}`);
      if (JSON.stringify(s.sup_spans) !== JSON.stringify(r.spans))
        fail(`${where}: supervised spans ${JSON.stringify(s.sup_spans)}, reference ${JSON.stringify(r.spans)}`);
      for (let t = 0; t < Math.min(s.len, r.ids.length); t++) {
        const c = s.start + t;
        covered[s.row][c] = true;
        const wantTarget = t + 1 < r.ids.length && r.sup[t + 1] ? r.ids[t + 1] : -1;
        if (b.ids[s.row][c] !== r.ids[t]) fail(`${where} token ${t}: id ${b.ids[s.row][c]}, reference ${r.ids[t]}`);
        if (b.targets[s.row][c] !== wantTarget) fail(`${where} token ${t}: target ${b.targets[s.row][c]}, reference ${wantTarget}`);
        if (b.pos_ids[s.row][c] !== t) fail(`${where} token ${t}: position ${b.pos_ids[s.row][c]}`);
        if (b.seg_ids[s.row][c] !== seg) fail(`${where} token ${t}: segment ${b.seg_ids[s.row][c]}, expected ${seg}`);
      }
    }
    // everything not covered by a document is padding: no loss, no segment
    for (let row = 0; row < b.ids.length; row++)
      for (let c = 0; c < b.ids[row].length; c++)
        if (!covered[row][c] && (b.targets[row][c] !== -1 || b.seg_ids[row][c] !== -1))
          fail(`batch ${b.batch} row ${row} col ${c}: padding carries a target or a segment`);
  }
  // every line the reference kept (n_sup > 0) must have been seen, and none it dropped
  for (const [ln, r] of ref) {
    if (r.nSup > 0 && !seen.has(ln)) fail(`line ${ln}: never appeared in the batches`);
    if (r.nSup === 0 && seen.has(ln)) fail(`line ${ln}: has no supervised token but was not dropped`);
  }
  if (errors.length) {
    console.error('data_reference.js: the loader disagrees with the reference:\n  ' + errors.join('\n  '));
    process.exit(1);
  }
  console.log(`data_reference.js: ${nSamples} samples match the reference token by token`);
}

main().catch((e) => { console.error('data_reference.js: ' + e.stack); process.exit(1); });
