#!/usr/bin/env bash
# export_safety_test.sh — exports never destroy or mix models, and adapters are
# verified wherever they are read:
#   export_safety_test.sh YOUR_AI TORCH_PYTHON WORKDIR CASE
# into_input       an --out that is, contains or lies inside --model/--adapter (also via a
#                  symlink, a trailing slash, ".", or a Hugging Face cache's blob symlinks)
#                  is refused with exit 2 naming both paths; the inputs keep their bytes
#                  (sha256 of every file before == after)
# overwrite_kill   an export killed part-way (YA_TEST_KILL_AFTER_FILES: SIGKILL after a
#                  given file lands) over an existing merged (sharded) / PEFT / GGUF output leaves
#                  the old output byte for byte; the rerun cleans the stale staging and gives
#                  exactly what a fresh export gives; no --force → refused, nothing changed
# failed_export    a failing export leaves no output, no staging and no parent directories it
#                  made, and an existing output untouched
# corrupt_checkpoint  a byte flipped in a checkpoint (its MANIFEST.sha256 made by coreutils'
#                  sha256sum, the independent reference) makes export, forward, generate and
#                  validate --adapter fail naming the file; a training checkpoint without a
#                  manifest is refused
# nonfinite        a NaN factor, lora_alpha 1e30, factors whose merge overflows F32 or F16, and
#                  an Inf in the base model are refused naming the tensor (or lora_alpha),
#                  with exit 1 and no output
set -euo pipefail
YA=$1 PY=$2 WORK=$3 CASE=$4
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS="$HERE/../../tools"
LORA_REF="$TOOLS/torch_lora_ref.py"
TD=${YA_TESTDATA_DIR:-}
DIR="$WORK/$CASE"
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive
fail() { echo "FAIL $CASE: $*" >&2; exit 1; }

BASE='"max_position_embeddings":512,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5'
SMALL='{"model_type":"llama","hidden_size":64,"intermediate_size":INTER,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":VOCAB,'"$BASE"'}'
init_model() { # VOCAB DTYPE [init-model flags]; INTER (default 96) = intermediate_size
  local cfg=${SMALL/VOCAB/$1}
  echo "${cfg/INTER/${INTER:-96}}" >cfg.json
  "$YA" init-model --config cfg.json --out m --dtype "$2" --seed 3 "${@:3}" >/dev/null
}
make_adapter() { # OUT [make-adapter flags]
  "$PY" "$LORA_REF" make-adapter --model m --out "$1" "${@:2}"
}
# edit_adapter DIR PYTHON: rewrites DIR/adapter_model.safetensors with W[key] = f(W[key]) (numpy, F32).
edit_adapter() {
  "$PY" -c "
import sys; sys.path.insert(0, '$TOOLS'); import torch_llama_ref as r, numpy as np
W = r.read_safetensors('$1/adapter_model.safetensors')
$2
r.write_safetensors('$1/adapter_model.safetensors', [(k, 'F32', np.asarray(v, dtype=np.float32)) for k, v in W.items()])"
}
# listing DIR: "<sha256>  ./<relative path>" of every file, sorted (the byte-for-byte state of DIR).
listing() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }
. "$HERE/../expect_error.sh"
no_leftovers() { # DIR...: no staging directories or temporaries anywhere below
  local left
  left=$(find "$@" -name '*.tmp-*' -o -name '*.old-*' 2>/dev/null || true)
  [ -z "$left" ] || fail "left behind: $left"
}

case $CASE in
  into_input)
    init_model 257 f32
    make_adapter ad --rank 4 --alpha 8 --seed 1
    m0=$(listing m) ad0=$(listing ad)
    for force in "" --force; do
      expect_error 2 "is the input m" "$YA" export --model m --adapter ad --format merged --out m $force
      expect_error 2 "is the input m" "$YA" export --model m --adapter ad --format merged --out m/ $force
      expect_error 2 "is the input ad" "$YA" export --model m --adapter ad --format peft --out ad $force
      expect_error 2 "lies inside the input m" "$YA" export --model m --adapter ad --format merged --out m/merged $force
      expect_error 2 "lies inside the input m" "$YA" export --model m --format gguf --out m/model.gguf $force
      expect_error 2 "lies inside the input ad" "$YA" export --model m --adapter ad --format gguf-adapter --out ad $force
      # OUT = the directory holding both inputs: swapping it out would delete them
      expect_error 2 "contains the input" "$YA" export --model m --adapter ad --format merged --out . $force
      expect_error 2 "contains the input" "$YA" export --model "$DIR/m" --adapter ad --format merged --out "$DIR/m/.." $force
      ln -sfn m mlink
      expect_error 2 "is the input m" "$YA" export --model m --adapter ad --format merged --out mlink $force
    done
    # A Hugging Face cache: the snapshot's files are symlinks into blobs/
    mkdir -p hub/blobs hub/snap
    for f in m/*; do cp "$f" "hub/blobs/$(basename "$f")"; ln -s "../blobs/$(basename "$f")" "hub/snap/$(basename "$f")"; done
    hub0=$(listing hub/blobs)
    expect_error 2 "a file of the input hub/snap" "$YA" export --model hub/snap --adapter ad --format merged --out hub/blobs --force
    [ "$(listing hub/blobs)" = "$hub0" ] || fail "the cache's blobs changed"
    [ "$(listing m)" = "$m0" ] || fail "the base model's files changed"
    [ "$(listing ad)" = "$ad0" ] || fail "the adapter's files changed"
    # A legitimate output beside the inputs, and into an existing empty directory, still works
    "$YA" export --model m --adapter ad --format merged --out merged
    mkdir empty && "$YA" export --model m --adapter ad --format peft --out empty
    [ -f merged/model.safetensors ] && [ -f empty/adapter_model.safetensors ] || fail "export beside the inputs failed"
    no_leftovers . ;;
  overwrite_kill)
    # f32 base with 1 MB MLP matrices in 1 MB shards: the merged export writes one shard per
    # adapted MLP matrix + an index, so a kill after the 2nd file would leave new shards 1-2
    # beside old shards 3-… under the old index if the export wrote into out/ directly
    INTER=4096 init_model 257 f32 --shard-size 1
    make_adapter ad1 --rank 4 --alpha 8 --seed 1
    make_adapter ad2 --rank 2 --alpha 4 --seed 2
    "$YA" export --model m --adapter ad1 --format merged --out out --shard-size 1
    [ "$(ls out/model-*-of-*.safetensors | wc -l)" -ge 4 ] || fail "expected at least 4 shards"
    old=$(listing out)
    expect_error 1 "give --force" "$YA" export --model m --adapter ad2 --format merged --out out --shard-size 1
    [ "$(listing out)" = "$old" ] || fail "a refused export changed the output"
    "$YA" export --model m --adapter ad2 --format merged --out fresh --shard-size 1
    new=$(listing fresh)
    [ "$new" != "$old" ] || fail "the two adapters give the same merged model"
    # kill_export N ARGS...: the export is SIGKILLed right after its N-th file lands
    kill_export() {
      set +e
      YA_TEST_KILL_AFTER_FILES=$1 "$YA" "${@:2}" 2>/dev/null
      local rc=$?
      set -e
      [ $rc -eq 137 ] || fail "the kill hook did not fire (exit $rc): $*"
    }
    kill_export 2 export --model m --adapter ad2 --format merged --out out --shard-size 1 --force
    [ "$(listing out)" = "$old" ] || fail "a killed overwrite left a mix of old and new files in out/"
    "$YA" export --model m --adapter ad2 --format merged --out out --shard-size 1 --force
    [ "$(listing out)" = "$new" ] || fail "the rerun differs from a fresh export"
    no_leftovers .
    # PEFT (two files) and a GGUF file, the same way
    "$YA" export --model m --adapter ad1 --format peft --out peft
    old=$(listing peft)
    kill_export 1 export --model m --adapter ad2 --format peft --out peft --force
    [ "$(listing peft)" = "$old" ] || fail "a killed PEFT overwrite left a mix"
    "$YA" export --model m --adapter ad2 --format peft --out peft --force
    "$YA" export --model m --adapter ad2 --format peft --out peft_fresh
    [ "$(listing peft)" = "$(listing peft_fresh)" ] || fail "the PEFT rerun differs from a fresh export"
    "$YA" export --model m --adapter ad1 --format gguf-adapter --out a.gguf
    old=$(sha256sum <a.gguf)
    expect_error 1 "give --force" "$YA" export --model m --adapter ad2 --format gguf-adapter --out a.gguf
    kill_export 1 export --model m --adapter ad2 --format gguf-adapter --out a.gguf --force
    [ "$(sha256sum <a.gguf)" = "$old" ] || fail "a killed GGUF overwrite changed a.gguf"
    "$YA" export --model m --adapter ad2 --format gguf-adapter --out a.gguf --force
    "$YA" export --model m --adapter ad2 --format gguf-adapter --out b.gguf
    cmp a.gguf b.gguf || fail "the GGUF rerun differs from a fresh export"
    no_leftovers . ;;
  failed_export)
    init_model 257 f32
    make_adapter ad --rank 4 --alpha 8 --seed 1
    edit_adapter ad 'W = {k: np.full(v.shape, 100.0) for k, v in W.items()}' # B·A·α/r = 4e4·2: beyond F16
    expect_error 1 "self_attn.q_proj.weight" "$YA" export --model m --adapter ad --format merged --dtype f16 --out new/deeper/out
    [ ! -e new ] || fail "a failed export left new/"
    expect_error 1 "self_attn.q_proj.weight" "$YA" export --model m --adapter ad --format gguf --out g/model.gguf
    [ ! -e g ] || fail "a failed export left g/"
    mkdir keep && echo precious >keep/file
    expect_error 1 "self_attn.q_proj.weight" "$YA" export --model m --adapter ad --format merged --dtype f16 --out keep --force
    [ "$(cat keep/file)" = precious ] && [ "$(ls keep)" = file ] || fail "a failed --force export changed keep/"
    no_leftovers . ;;
  corrupt_checkpoint)
    [ -n "$TD" ] && [ -f "$TD/llama2/models/tokenizer.json" ] || fail "test data llama2 missing (fetch_testdata)"
    init_model 32000 f32 --tokenizer "$TD/llama2/models"
    make_adapter ad --rank 4 --alpha 8 --seed 1
    echo '{"format":"your_ai.trainer_state","step":1}' >ad/trainer_state.json
    (cd ad && sha256sum adapter_config.json adapter_model.safetensors trainer_state.json >MANIFEST.sha256)
    "$YA" forward --model m --adapter ad --ids "1 5 7" --out ok.safetensors # an intact checkpoint loads
    cp -r ad bad
    "$PY" -c "
import os, sys; p = 'bad/adapter_model.safetensors'; n = os.path.getsize(p)
with open(p, 'r+b') as f: f.seek(n - 5); b = f.read(1); f.seek(n - 5); f.write(bytes([b[0] ^ 0x01]))"
    want="bad: adapter_model.safetensors: sha256"
    expect_error 1 "$want" "$YA" export --model m --adapter bad --format peft --out p
    expect_error 1 "$want" "$YA" export --model m --adapter bad --format merged --out mg
    expect_error 1 "$want" "$YA" export --model m --adapter bad --format gguf-adapter --out g.gguf
    expect_error 1 "$want" "$YA" forward --model m --adapter bad --ids "1 5 7" --out x.safetensors
    expect_error 1 "$want" "$YA" generate --model m --adapter bad --ids "1 5 7" --max-tokens 2 --print-ids
    echo '{"text":"A letter written in 1851 describes the harvest.","auth_weight":0.2}' >val.jsonl
    expect_error 1 "$want" "$YA" validate --model m --adapter bad --data val.jsonl --bootstrap 0 --out r.json
    [ ! -e p ] && [ ! -e mg ] && [ ! -e g.gguf ] || fail "a refused export wrote output"
    cp -r ad badcfg && sed -i 's/"lora_alpha": *[0-9.]*/"lora_alpha": 9/' badcfg/adapter_config.json
    grep -q '"lora_alpha": *9' badcfg/adapter_config.json || fail "test setup: lora_alpha not edited"
    expect_error 1 "badcfg: adapter_config.json: sha256" "$YA" forward --model m --adapter badcfg --ids "1" --out x.safetensors
    cp -r ad nomanifest && rm nomanifest/MANIFEST.sha256
    expect_error 1 "without MANIFEST.sha256" "$YA" export --model m --adapter nomanifest --format peft --out p
    no_leftovers . ;;
  nonfinite)
    init_model 257 f32
    make_adapter ad --rank 4 --alpha 8 --seed 1
    cp -r ad nan && edit_adapter nan "W['base_model.model.model.layers.1.mlp.up_proj.lora_B.weight'][3, 1] = np.nan"
    for fmt in merged gguf peft; do
      expect_error 1 "'base_model.model.model.layers.1.mlp.up_proj.lora_B.weight' holds a non-finite value" \
        "$YA" export --model m --adapter nan --format $fmt --out o_$fmt
    done
    expect_error 1 "up_proj.lora_B.weight' holds a non-finite value" "$YA" forward --model m --adapter nan --ids "1 2" --out x.safetensors
    cp -r ad alpha && sed -i 's/"lora_alpha": *[0-9.]*/"lora_alpha": 1e30/' alpha/adapter_config.json
    grep -q '"lora_alpha": *1e30' alpha/adapter_config.json || fail "test setup: lora_alpha not edited"
    expect_error 1 "lora_alpha / r" "$YA" export --model m --adapter alpha --format merged --out o_alpha
    # finite factors whose merge overflows: 1e20·1e20 in F32; 100·100·4·2 = 8e4 in F16
    cp -r ad huge && edit_adapter huge 'W = {k: np.full(v.shape, 1e20) for k, v in W.items()}'
    expect_error 1 "tensor 'model.layers.0.self_attn.q_proj.weight' [0, 0] merged with the adapter huge" \
      "$YA" export --model m --adapter huge --format merged --out o_huge
    expect_error 1 "not finite" "$YA" export --model m --adapter huge --format gguf --dtype f32 --out o_huge.gguf
    cp -r ad big && edit_adapter big 'W = {k: np.full(v.shape, 100.0) for k, v in W.items()}'
    expect_error 1 "out of the output type's range" "$YA" export --model m --adapter big --format merged --dtype f16 --out o_big
    expect_error 1 "out of the output type's range" "$YA" export --model m --adapter big --format gguf --out o_big.gguf
    "$YA" export --model m --adapter big --format merged --dtype f32 --out o_big32 # fits F32: fine
    # a NaN in the base model itself: copied unchanged (merged, same dtype) or converted (gguf)
    "$PY" -c "
import sys; sys.path.insert(0, '$TOOLS'); import torch_llama_ref as r, numpy as np
W = r.read_safetensors('m/model.safetensors'); W['model.norm.weight'][5] = np.inf
r.write_safetensors('m/model.safetensors', [(k, 'F32', np.asarray(v, dtype=np.float32)) for k, v in W.items()])"
    expect_error 1 "tensor 'model.norm.weight' element 5 is not finite" "$YA" export --model m --format merged --out o_base
    expect_error 1 "tensor 'model.norm.weight' element 5 is inf" "$YA" export --model m --format gguf --out o_base.gguf
    for o in o_merged o_gguf o_peft o_alpha o_huge o_huge.gguf o_big o_big.gguf o_base o_base.gguf; do
      [ ! -e $o ] || fail "$o was written"
    done
    no_leftovers . ;;
  *) fail "unknown case" ;;
esac
echo "ok $CASE"
