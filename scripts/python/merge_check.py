"""Interop check of the `merge` job with HF transformers and HF PEFT on a real classification head.

    merge_check.py fixture DIR       writes DIR/base (a tiny LlamaForSequenceClassification, 5 labels: its head is
                                     `score.weight`, no bias), two PEFT LoRA adapters on `score` trained-looking
                                     (init_lora_weights=False) and saved by PEFT itself: DIR/adapters/task-1 (r 4,
                                     alpha 8, float32) and DIR/adapters/task-2 (r 2, alpha 3, rsLoRA, bfloat16), and
                                     labelled features as pyarrow writes them: the model's own last-token hidden states
                                     of random token sequences (DIR/data/pre labelled by the head's argmax,
                                     DIR/data/task-<i> by adapter i's update's argmax)
    merge_check.py check DIR OUT     loads OUT/merged/adapter with PeftModel.from_pretrained on the base model and
                                     checks that PEFT's effective head equals W + 0.7 s_1 B_1 A_1 + 1.3 s_2 B_2 A_2
                                     computed in numpy from the adapters PEFT wrote (the job runs with
                                     coefficients=explicit, alphas=0.7,1.3), that OUT/merged/head.safetensors holds the
                                     same matrix, and that PEFT's logits on the task features equal features · Wᵀ.
Prints one line per check; exits 1 when one fails.
"""

import json
import os
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tiny_llama import TINY_LLAMA_CONFIG  # noqa: E402

LABELS = 5
ALPHAS = [0.7, 1.3]
SAMPLES = {"pre": 48, "task-1": 32, "task-2": 40}


def base_model():
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(0)
    cfg = LlamaConfig(**TINY_LLAMA_CONFIG, num_labels=LABELS, pad_token_id=0)
    return LlamaForSequenceClassification(cfg).eval()


def adapter_configs():
    from peft import LoraConfig

    return {
        "task-1": (LoraConfig(r=4, lora_alpha=8, target_modules=["score"], init_lora_weights=False), torch.float32),
        "task-2": (LoraConfig(r=2, lora_alpha=3, use_rslora=True, target_modules=["score"], init_lora_weights=False),
                   torch.bfloat16),
    }


def features(model, n, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, TINY_LLAMA_CONFIG["vocab_size"], (n, 12), generator=g)
    with torch.no_grad():
        return model.model(input_ids=ids).last_hidden_state[:, -1].double().numpy()


def write_features(path, x, labels):
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(path, exist_ok=True)
    table = pa.table({"features": pa.array([row.astype(np.float32) for row in x], type=pa.list_(pa.float32())),
                      "label": pa.array(labels.astype(np.int64))})
    pq.write_table(table, os.path.join(path, "part-00000.parquet"))


def adapter_delta(directory):
    """s · B A in float64 from the files PEFT wrote, and the adapter's config."""
    from safetensors.torch import load_file  # numpy has no bfloat16

    cfg = json.load(open(os.path.join(directory, "adapter_config.json")))
    t = load_file(os.path.join(directory, "adapter_model.safetensors"))
    a = next(v for k, v in t.items() if "lora_A" in k).double().numpy()
    b = next(v for k, v in t.items() if "lora_B" in k).double().numpy()
    r = cfg["r"]
    s = cfg["lora_alpha"] / (np.sqrt(r) if cfg.get("use_rslora") else r)
    return s * (b @ a), cfg


def fixture(d):
    from peft import get_peft_model

    model = base_model()
    model.save_pretrained(os.path.join(d, "base"), safe_serialization=True)
    w = model.score.weight.detach().double().numpy()
    pre = features(model, SAMPLES["pre"], 10)
    write_features(os.path.join(d, "data", "pre"), pre, np.argmax(pre @ w.T, axis=1))
    for i, (name, (cfg, dtype)) in enumerate(adapter_configs().items()):
        torch.manual_seed(100 + i)
        peft_model = get_peft_model(base_model(), cfg)
        peft_model.to(dtype)
        out = os.path.join(d, "adapters", name)
        peft_model.save_pretrained(out)
        delta, _ = adapter_delta(out)
        x = features(model, SAMPLES[name], 20 + i)
        write_features(os.path.join(d, "data", name), x, np.argmax(x @ delta.T, axis=1))
    print(f"merge_check: fixture in {d}")


def check(d, out):
    from peft import PeftModel
    from safetensors.numpy import load_file

    failed = []

    def report(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failed.append(what)

    w = base_model().score.weight.detach().double().numpy()
    expected = w.copy()
    for alpha, name in zip(ALPHAS, ["task-1", "task-2"]):
        delta, _ = adapter_delta(os.path.join(d, "adapters", name))
        expected += alpha * delta
    scale = np.abs(expected).max()

    merged = os.path.join(out, "merged", "adapter")
    cfg = json.load(open(os.path.join(merged, "adapter_config.json")))
    report(cfg["target_modules"] in (["score"], "score") or set(cfg["target_modules"]) == {"score"},
           f"merged adapter targets {cfg['target_modules']}, r {cfg['r']}, lora_alpha {cfg['lora_alpha']}")
    model = PeftModel.from_pretrained(base_model(), merged)
    loaded = [n for n, m in model.named_modules() if hasattr(m, "lora_A") and len(m.lora_A) > 0]
    report(loaded == ["base_model.model.score"], f"LoRA layers loaded: {loaded}")
    with torch.no_grad():
        # PEFT's own delta (B A · its scaling) on the base head, in float64
        effective = w + model.base_model.model.score.get_delta_weight("default").double().numpy()
    err = np.abs(effective - expected).max() / scale
    report(err < 1e-6, f"PEFT's effective head = W + Σ α_i s_i B_i A_i: max relative error {err:.2e}")

    head = load_file(os.path.join(out, "merged", "head.safetensors"))
    report(list(head) == ["score.weight"], f"merged head tensors {list(head)}")
    err = np.abs(head["score.weight"].astype(np.float64) - expected).max() / scale
    report(err < 1e-6, f"merged/head.safetensors = W + Σ α_i s_i B_i A_i: max relative error {err:.2e}")

    x = features(base_model(), SAMPLES["task-2"], 21)
    with torch.no_grad():
        hidden = torch.from_numpy(x).float()
        logits = model.base_model.model.score(hidden).double().numpy()
    err = np.abs(logits - x @ expected.T).max() / np.abs(x @ expected.T).max()
    report(err < 1e-5, f"PEFT's logits on task-2 features = features · merged headᵀ: max relative error {err:.2e}")

    print(f"merge_check: {len(failed)} failed")
    return 1 if failed else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "fixture":
        shutil.rmtree(os.path.join(argv[1], "adapters"), ignore_errors=True)
        fixture(argv[1])
        return 0
    if len(argv) >= 3 and argv[0] == "check":
        return check(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
