# tiny_setup.sh — sourced by the CLI training tests (train_cli.sh, cpu_paths.sh,
# train_config.sh): the tiny Llama model and the random-word JSONL corpus they train
# on, in one place. Each test picks its own seed, sizes and word list.

# tiny_model YOUR_AI TOKENIZER_JSON: cfg.json and a bf16 model directory m/ (2 layers,
# hidden 64, GQA 4/2 heads, tied embeddings, the tokenizer's 32000-token vocabulary).
tiny_model() {
  echo '{"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,"max_position_embeddings":512,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5,"tie_word_embeddings":true}' >cfg.json
  "$1" init-model --config cfg.json --out m --dtype bf16 --seed 1 --tokenizer "$2" >/dev/null
}

# tiny_corpus PYTHON SEED MIN_WORDS MAX_WORDS "WORDS" FILE:N [FILE:N ...]: N records per
# FILE, drawn in order from one random stream; each a text of MIN..MAX random WORDS with
# a random auth_weight in [0.05, 0.95] and prov_entropy in [0.5, 6].
tiny_corpus() {
  "$1" - "${@:2}" <<'PYEOF'
import json, random, sys
seed, lo, hi, words = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
random.seed(seed)
for spec in sys.argv[5:]:
    name, n = spec.rsplit(":", 1)
    with open(name, "w") as f:
        for _ in range(int(n)):
            t = " ".join(random.choice(words) for _ in range(random.randint(lo, hi)))
            f.write(json.dumps({"text": t, "auth_weight": round(random.uniform(0.05, 0.95), 4),
                                "prov_entropy": round(random.uniform(0.5, 6), 4)}) + "\n")
PYEOF
}
