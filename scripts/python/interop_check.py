"""Checks files written by loraspace's Java writers with the reference implementations.

    interop_check.py <dir>

<dir>/checks.json lists what to check (written by the Java test):
  {"safetensors": [{"file": "a.safetensors", "metadata": {...},
                    "tensors": {"name": {"dtype": "F32", "shape": [..], "values": ["0x1.8p+0", ...]}}}],
   "sharded": [{"dir": "ckpt", "tensors": {"name": {"shape": [..], "values": [..]}}}],
   "peft": [{"dir": "adapter", "seed": 0, "modules": {"model.layers.0.self_attn.q_proj":
             {"A": [...], "B": [...], "A_shape": [r, in], "B_shape": [out, r], "scaling": s}}}]}
Floats are float.hex strings ("nan", "inf", "-inf" for specials). Exits 1 with one line per mismatch.
"""

import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

TORCH_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}

errors = []


def parse(v):
    if isinstance(v, (int, bool)):
        return v
    if v == "nan":
        return math.nan
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    return float.fromhex(v)


def same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, float) and a == 0.0 and b == 0.0:
        return math.copysign(1, a) == math.copysign(1, b)
    return a == b


def compare(where, tensor, spec):
    if "dtype" in spec and tensor.dtype != TORCH_DTYPES[spec["dtype"]]:
        errors.append(f"{where}: dtype {tensor.dtype}, expected {spec['dtype']}")
        return
    if list(tensor.shape) != spec["shape"]:
        errors.append(f"{where}: shape {list(tensor.shape)}, expected {spec['shape']}")
        return
    got = tensor.flatten().tolist() if not tensor.is_floating_point() else tensor.double().flatten().tolist()
    want = [parse(v) for v in spec["values"]]
    for i, (g, w) in enumerate(zip(got, want)):
        if not same(float(g) if tensor.is_floating_point() else g, w):
            errors.append(f"{where}[{i}]: {g!r}, expected {w!r}")
            return


def check_safetensors(base, item):
    from safetensors import safe_open

    path = os.path.join(base, item["file"])
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        if meta != item.get("metadata", {}):
            errors.append(f"{path}: metadata {meta}, expected {item.get('metadata', {})}")
        names = set(f.keys())
        if names != set(item["tensors"]):
            errors.append(f"{path}: tensors {sorted(names)}, expected {sorted(item['tensors'])}")
        for name, spec in item["tensors"].items():
            if name in names:
                compare(f"{path}:{name}", f.get_tensor(name), spec)
    with open(path, "rb") as fh:
        n = int.from_bytes(fh.read(8), "little")
        if (8 + n) % 8 != 0:
            errors.append(f"{path}: data section starts at {8 + n}, not a multiple of 8")


def check_sharded(base, item):
    from safetensors import safe_open

    d = os.path.join(base, item["dir"])
    with open(os.path.join(d, "model.safetensors.index.json")) as fh:
        index = json.load(fh)
    total = 0
    for name, spec in item["tensors"].items():
        shard = index["weight_map"].get(name)
        if shard is None:
            errors.append(f"{d}: index has no entry for {name}")
            continue
        with safe_open(os.path.join(d, shard), framework="pt") as f:
            t = f.get_tensor(name)
            total += t.numel() * t.element_size()
            compare(f"{d}/{shard}:{name}", t, spec)
    if index["metadata"]["total_size"] != total:
        errors.append(f"{d}: index total_size {index['metadata']['total_size']}, tensors hold {total}")


def check_peft(base, item):
    from peft import PeftModel
    from tiny_llama import build_tiny_llama

    d = os.path.join(base, item["dir"])
    model = PeftModel.from_pretrained(build_tiny_llama(item.get("seed", 0)), d)
    found = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            found[name.replace("base_model.model.", "", 1)] = module
    if set(found) != set(item["modules"]):
        errors.append(f"{d}: PEFT adapted {sorted(found)}, expected {sorted(item['modules'])}")
    for key, spec in item["modules"].items():
        module = found.get(key)
        if module is None:
            continue
        a = module.lora_A["default"].weight.detach()
        b = module.lora_B["default"].weight.detach()
        compare(f"{d}:{key}.lora_A", a, {"shape": spec["A_shape"], "values": spec["A"]})
        compare(f"{d}:{key}.lora_B", b, {"shape": spec["B_shape"], "values": spec["B"]})
        if abs(module.scaling["default"] - spec["scaling"]) > 1e-12:
            errors.append(f"{d}:{key}: PEFT scaling {module.scaling['default']}, expected {spec['scaling']}")


def main():
    base = sys.argv[1]
    with open(os.path.join(base, "checks.json")) as fh:
        checks = json.load(fh)
    count = 0
    for item in checks.get("safetensors", []):
        check_safetensors(base, item)
        count += 1
    for item in checks.get("sharded", []):
        check_sharded(base, item)
        count += 1
    for item in checks.get("peft", []):
        check_peft(base, item)
        count += 1
    if errors:
        for e in errors:
            print("MISMATCH", e)
        sys.exit(1)
    print(f"interop_check: {count} checks passed")


if __name__ == "__main__":
    main()
