"""Writes the committed interop fixtures under common/src/test/resources/fixtures/ with the reference
implementations (Python safetensors, HF PEFT), plus expected.json files holding the values exactly as Python sees
them (floats as float.hex). The Java tests read the committed files; they are never regenerated silently.

    .venv/bin/python scripts/python/make_fixtures.py
"""

import json
import math
import os
import shutil
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_llama import build_tiny_llama  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "common", "src", "test", "resources", "fixtures")


def hexf(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x).hex()


def float_values(t: torch.Tensor):
    return [hexf(v) for v in t.double().flatten().tolist()]


def dtypes_fixture():
    special = [0.0, -0.0, 1.5, -2.25, 0.1, 1e-3]
    tensors = {
        "f64": torch.tensor(special + [5e-324, 1.7976931348623157e308, math.inf, -math.inf, math.nan],
                            dtype=torch.float64),
        "f32": torch.tensor(special + [1e-45, 3.4028234663852886e38, math.inf, -math.inf, math.nan],
                            dtype=torch.float32),
        "f16": torch.tensor(special + [2.0 ** -24, 65504.0, math.inf, -math.inf, math.nan], dtype=torch.float16),
        "bf16": torch.tensor(special + [2.0 ** -133, 3.3895313892515355e38, math.inf, -math.inf, math.nan],
                             dtype=torch.bfloat16),
        "i64": torch.tensor([-(2 ** 63), 2 ** 63 - 1, 0, -1, 123456789012], dtype=torch.int64),
        "i32": torch.tensor([-(2 ** 31), 2 ** 31 - 1, 0, -1], dtype=torch.int32),
        "i16": torch.tensor([-(2 ** 15), 2 ** 15 - 1, 0, -1], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0, -1], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 7], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "matrix_f32": (torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8.0 - 0.5),
        "scalar_f32": torch.tensor(2.5, dtype=torch.float32),
        "empty_f32": torch.zeros((0, 3), dtype=torch.float32),
    }
    metadata = {"format": "pt", "producer": "make_fixtures.py", "note": "loraspace interop fixture"}
    save_file(tensors, os.path.join(OUT, "dtypes.safetensors"), metadata=metadata)
    expected = {"metadata": metadata, "tensors": {}}
    for name, t in tensors.items():
        entry = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
        if t.is_floating_point():
            entry["values"] = float_values(t)
        else:
            entry["values"] = [int(v) for v in t.flatten().tolist()]
        expected["tensors"][name] = entry
    with open(os.path.join(OUT, "dtypes.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


def sharded_fixture():
    d = os.path.join(OUT, "sharded")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    g = torch.Generator().manual_seed(3)
    shard1 = {"layers.0.weight": torch.randn(4, 3, generator=g), "layers.0.bias": torch.randn(4, generator=g)}
    shard2 = {"layers.1.weight": torch.randn(2, 4, generator=g).to(torch.bfloat16),
              "layers.1.bias": torch.randn(2, generator=g).to(torch.float16)}
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    save_file(shard1, os.path.join(d, names[0]), metadata={"format": "pt"})
    save_file(shard2, os.path.join(d, names[1]), metadata={"format": "pt"})
    weight_map = {k: names[0] for k in shard1}
    weight_map.update({k: names[1] for k in shard2})
    total = sum(t.numel() * t.element_size() for t in list(shard1.values()) + list(shard2.values()))
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    expected = {k: {"shape": list(t.shape), "values": float_values(t)}
                for k, t in list(shard1.items()) + list(shard2.items())}
    with open(os.path.join(OUT, "sharded.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


def peft_fixture():
    from peft import LoraConfig, get_peft_model

    d = os.path.join(OUT, "peft_adapter")
    shutil.rmtree(d, ignore_errors=True)
    model = build_tiny_llama(0)
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["q_proj", "v_proj", "down_proj"],
        rank_pattern={"v_proj": 2},
        alpha_pattern={"model.layers.1.self_attn.q_proj": 16},
        init_lora_weights=False,
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(11)
    peft_model = get_peft_model(model, config)
    peft_model.save_pretrained(d)
    expected = {"modules": {}}
    for name, module in peft_model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            key = name.replace("base_model.model.", "", 1)
            expected["modules"][key] = {
                "A_shape": list(module.lora_A["default"].weight.shape),
                "B_shape": list(module.lora_B["default"].weight.shape),
                "A": float_values(module.lora_A["default"].weight.detach()),
                "B": float_values(module.lora_B["default"].weight.detach()),
                "scaling": module.scaling["default"],
            }
    with open(os.path.join(OUT, "peft_adapter.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    dtypes_fixture()
    sharded_fixture()
    peft_fixture()
    print("fixtures written to", OUT)
