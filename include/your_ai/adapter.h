/* adapter.h — a PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json,
 * SPEC §10.1) applied at inference without merging: every targeted projection
 * computes y = W x (+ b) + (lora_alpha / r) · B (A x).
 * Used by `generate --adapter`, `forward --adapter`, `validate --adapter`, and as the
 * reference side of the merged-export test. */
#ifndef YOUR_AI_ADAPTER_H
#define YOUR_AI_ADAPTER_H

#include "your_ai/error.h"
#include "your_ai/model.h"

typedef struct YaAdapter YaAdapter;

/* The largest lora_alpha / r accepted: PEFT configs use 0.5 … 16; anything
 * beyond this is a corrupted config that would blow the weights up. */
#define YA_ADAPTER_MAX_SCALE 1e4

/* Loads DIR/adapter_config.json and DIR/adapter_model.safetensors (DIR may be a
 * checkpoint directory written by the trainer) and checks every tensor against
 * the model: key names, [r, in] / [out, r] shapes, target modules, layers.
 * Also: DIR/MANIFEST.sha256 verifies when present (a training checkpoint
 * without one is refused), r ≥ 1, lora_alpha finite with 0 < α/r ≤
 * YA_ADAPTER_MAX_SCALE, every factor finite. Errors name the file and the tensor. */
int ya_adapter_load(const char *dir, const YaModel *m, YaAdapter **out, YaError *err);
void ya_adapter_free(YaAdapter *a);

/* Attaches a (NULL detaches): subsequent ya_model_forward calls on m apply it.
 * The adapter must outlive its attachment. */
int ya_model_set_adapter(YaModel *m, const YaAdapter *a, YaError *err);

/* What was loaded (for export and reports). */
int ya_adapter_rank(const YaAdapter *a);
double ya_adapter_alpha(const YaAdapter *a);
const char *ya_adapter_dir(const YaAdapter *a);

/* Additions for export (src/export): the loaded factors in the trainer's flat
 * layout (ya_adapter_write / ya_adapter_config_json accept it as is), the
 * config's base_model_name_or_path, and one projection's factors (NULL when
 * (layer, target) is not adapted; target is a YaLoraTarget). */
struct YaLoraSet;
const struct YaLoraSet *ya_adapter_lora(const YaAdapter *a);
const char *ya_adapter_base_model(const YaAdapter *a);
const YaLoraFactors *ya_adapter_factors(const YaAdapter *a, int layer, int target);

#endif
