#!/usr/bin/env bash
# The distrust experiment (issue 7, docs/EXPERIMENTS.md): pretrain a small base on
# the Brown corpus with --train full, then LoRA-tune it at equal steps four ways —
#   uniform         --distrust-mode off (token-pooled CE: lambda 0 of the reference's loss)
#   additive        --distrust-mode additive --lambda 0.6 (the reference's term)
#   weighted-l0     --distrust-mode weighted --lambda 0 (uniform per sample, SPEC §3.3 note)
#   weighted        --distrust-mode weighted --lambda 0.6 (our default)
# — and report held-out perplexity per source type and authority band for each
# (base vs tuned, bootstrap intervals, the distrust signal).
#
#   tools/distrust_experiment.sh BIN DATA_DIR TOKENIZER_DIR OUT [THREADS] [PRETRAIN_SECONDS] [LORA_STEPS]
#     DATA_DIR       train.jsonl + val.jsonl from `your_ai prepare` (e.g. the demo's data/)
#     TOKENIZER_DIR  a directory with tokenizer.json (the demo uses the Mistral-7B one)
# Pretraining runs until PRETRAIN_SECONDS (SIGINT: the trainer finishes the update
# and saves the model), so the base's step count depends on the machine; the three
# LoRA runs then take exactly LORA_STEPS updates each from that same base.
set -euo pipefail
BIN=$1 DATA=$2 TOK=$3 OUT=$4 THREADS=${5:-16} PRE_S=${6:-240} LORA_STEPS=${7:-60}
mkdir -p "$OUT"
cat >"$OUT/config.json" <<'JSON'
{"model_type":"llama","architectures":["LlamaForCausalLM"],"hidden_size":384,"intermediate_size":1024,
 "num_hidden_layers":6,"num_attention_heads":6,"num_key_value_heads":2,"vocab_size":32000,
 "max_position_embeddings":2048,"rms_norm_eps":1e-5,"rope_theta":10000.0,"hidden_act":"silu",
 "tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2}
JSON
"$BIN" init-model --config "$OUT/config.json" --dtype f32 --seed 7 --tokenizer "$TOK" --out "$OUT/base0" --force
COMMON="--batch-size 8 --grad-accum 1 --max-seq-length 256 --threads $THREADS --log-every 20"

echo "== pretraining (full, plain CE) for ${PRE_S}s"
rc=0
timeout -s INT "$PRE_S" "$BIN" train --model "$OUT/base0" --data "$DATA/train.jsonl" --out "$OUT/pretrain" \
  --train full --distrust-mode off --batching pack --max-steps 100000 --warmup-steps 20 --learning-rate 1e-3 \
  --save-every 0 $COMMON || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 124 ] || { echo "pretraining failed ($rc)"; exit 1; }
BASE=$(ls -d "$OUT"/pretrain/model-* | sort -t- -k2 -n | tail -1)
echo "base: $BASE"

for mode in uniform additive weighted-l0 weighted; do
  case $mode in
    uniform) flags="--distrust-mode off" ;;
    additive) flags="--distrust-mode additive --lambda 0.6" ;;
    weighted-l0) flags="--distrust-mode weighted --lambda 0" ;;
    weighted) flags="--distrust-mode weighted --lambda 0.6" ;;
  esac
  echo "== LoRA $mode ($flags), $LORA_STEPS updates"
  "$BIN" train --model "$BASE" --data "$DATA/train.jsonl" --out "$OUT/lora-$mode" $flags \
    --max-steps "$LORA_STEPS" --warmup-steps 5 --learning-rate 1e-3 --save-every 0 --seed 42 $COMMON
  "$BIN" validate --model "$BASE" --adapter "$OUT/lora-$mode/checkpoint-$LORA_STEPS-final" --data "$DATA/val.jsonl" \
    --max-seq-length 256 --bootstrap 1000 --threads "$THREADS" --out "$OUT/report-$mode.json" --plot "$OUT/report-$mode.svg"
done
cmp "$OUT/lora-uniform/checkpoint-$LORA_STEPS-final/adapter_model.safetensors" \
    "$OUT/lora-additive/checkpoint-$LORA_STEPS-final/adapter_model.safetensors" &&
  echo "additive adapter == uniform adapter (byte-identical)" ||
  echo "additive adapter DIFFERS from uniform"
