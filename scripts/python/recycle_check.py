"""Interop check of `reconstruct` outputs: a reconstructed adapter loads with HF PEFT on the tiny Llama.

    recycle_check.py ADAPTER_DIR

Loads the tiny Llama (scripts/python/tiny_llama.py: hidden 64, k/v outputs 32, 2 layers), applies the adapter with
PeftModel.from_pretrained, and checks that every lora_A / lora_B parameter PEFT holds equals the file's tensor, that
the scaling PEFT uses is the config's alpha / r, and that a forward pass runs. Prints one line per check; exits 1 when
one fails.
"""

import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tiny_llama import build_tiny_llama  # noqa: E402


def main(d):
    from peft import PeftModel
    cfg = json.load(open(os.path.join(d, "adapter_config.json")))
    tensors = load_file(os.path.join(d, "adapter_model.safetensors"))
    model = PeftModel.from_pretrained(build_tiny_llama(0), d)
    model.eval()
    failed = 0
    seen = 0
    worst = 0.0
    for name, mod in model.named_modules():
        if hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
            module = name.replace("base_model.model.", "", 1)
            for f, holder in (("A", mod.lora_A), ("B", mod.lora_B)):
                key = f"base_model.model.{module}.lora_{f}.weight"
                ref = tensors[key].astype(np.float64)
                got = holder["default"].weight.detach().double().numpy()
                worst = max(worst, float(np.abs(got - ref).max()))
            s = mod.scaling["default"]
            if abs(s - cfg["lora_alpha"] / cfg["r"]) > 1e-12:
                print(f"FAIL {module}: PEFT scaling {s} != alpha / r")
                failed += 1
            seen += 1
    expected = len([k for k in tensors if k.endswith("lora_A.weight")])
    ok = seen == expected
    print(f"{'ok  ' if ok else 'FAIL'} LoRA layers loaded: {seen} of {expected}")
    failed += 0 if ok else 1
    ok = worst == 0.0
    print(f"{'ok  ' if ok else 'FAIL'} lora_A/lora_B in PEFT equal the file: max |diff| {worst:.3e}")
    failed += 0 if ok else 1
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[1, 2, 3, 4]])).logits
    ok = bool(torch.isfinite(logits).all())
    print(f"{'ok  ' if ok else 'FAIL'} forward pass finite")
    failed += 0 if ok else 1
    print(f"recycle_check: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
