"""Interop check of the `correct` job on the tiny Llama (scripts/python/tiny_llama.py).

    correct_check.py fixture DIR       writes DIR/base (F32, sharded), DIR/aligned (BF16, sharded: base plus a planted
                                       displacement per Linear, 3 x 1.0, 3 x 0.2, tail 0.01, times 0.5) and three PEFT
                                       adapters trained-looking on the aligned model in DIR/adapters (plain; rsLoRA;
                                       rank_pattern + alpha_pattern on a subset of modules)
    correct_check.py check DIR OUT     loads every adapter of OUT/csulora and OUT/safelora with
                                       PeftModel.from_pretrained on the aligned model and checks, module by module:
                                       csulora: PEFT's delta weight equals a dense numpy CSULoRA (full SVD of D, tau 0.9,
                                       energy-ratio penalty with eps 1e-3, truncated SVD of X* to the adapter's rank);
                                       safelora: lora_B equals C.B (C = V V^T / ||V||_F, the PR #2201 formulas,
                                       number mode, 10 layers, cos rounded to 5 decimals) on the selected modules and
                                       the input's elsewhere, lora_A unchanged; a forward pass is finite.
Prints one line per check; exits 1 when one fails.
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

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
TAU = 0.9
EPS = 1e-3
LAYERS = 10


def planted(out, inp, rng):
    p = min(out, inp)
    u, _ = np.linalg.qr(rng.standard_normal((out, p)))
    v, _ = np.linalg.qr(rng.standard_normal((inp, p)))
    s = np.array([1.0] * 3 + [0.2] * 3 + [0.01] * (p - 6))
    return 0.5 * (u * s) @ v.T


def fixture(d):
    from peft import LoraConfig, get_peft_model

    base = build_tiny_llama(0)
    base.save_pretrained(os.path.join(d, "base"), safe_serialization=True, max_shard_size="200KB")
    rng = np.random.default_rng(3)
    aligned = build_tiny_llama(0)
    with torch.no_grad():
        for name, mod in aligned.named_modules():
            if isinstance(mod, torch.nn.Linear) and name.split(".")[-1] in TARGETS:
                w = mod.weight
                w += torch.from_numpy(planted(w.shape[0], w.shape[1], rng)).to(w.dtype)
    aligned.to(torch.bfloat16).save_pretrained(os.path.join(d, "aligned"), safe_serialization=True,
                                               max_shard_size="200KB")
    configs = {
        "plain": LoraConfig(r=8, lora_alpha=16, target_modules=TARGETS, init_lora_weights=False),
        "rslora": LoraConfig(r=4, lora_alpha=8, use_rslora=True, target_modules=TARGETS, init_lora_weights=False),
        "patterns": LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj", "o_proj"],
                               rank_pattern={"v_proj": 4}, alpha_pattern={"o_proj": 32}, init_lora_weights=False),
    }
    for i, (name, cfg) in enumerate(configs.items()):
        torch.manual_seed(10 + i)
        model = get_peft_model(build_tiny_llama(0), cfg)
        with torch.no_grad():
            for _, mod in model.named_modules():
                if hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
                    mod.lora_A["default"].weight.normal_(0, 0.1)
                    mod.lora_B["default"].weight.normal_(0, 0.1)
        model.save_pretrained(os.path.join(d, "adapters", name))
    print("correct_check: fixture written to", d)
    return 0


def tensors(path):
    from safetensors.torch import load_file as load_torch
    out = {}
    for f in sorted(os.listdir(path)):
        if f.endswith(".safetensors"):
            out.update({k: v.double().numpy() for k, v in load_torch(os.path.join(path, f)).items()})
    return out


def csulora(dmat, a, b, s):
    u, sig, vt = np.linalg.svd(dmat, full_matrices=False)
    e = sig ** 2
    k = int(np.searchsorted(np.cumsum(e), TAU * e.sum() * (1 - 1e-12)) + 1)
    pu = u[:, :k] @ u[:, :k].T
    pv = vt[:k].T @ vt[:k]
    qu = np.eye(pu.shape[0]) - pu
    qv = np.eye(pv.shape[0]) - pv
    dw = s * b @ a
    blocks = [pu @ dw @ pv, pu @ dw @ qv, qu @ dw @ pv, qu @ dw @ qv]
    en = [float((x ** 2).sum()) for x in blocks]
    ref = en[0] + EPS * sum(en)
    x = blocks[0] + sum(blocks[i] / (1 + en[i] / ref) for i in (1, 2, 3))
    ux, sx, vx = np.linalg.svd(x, full_matrices=False)
    r = a.shape[0]
    return (ux[:, :r] * sx[:r]) @ vx[:r], k


def peft_modules(model):
    for name, mod in model.named_modules():
        if hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
            yield name.replace("base_model.model.", "", 1), mod


def check(d, out):
    from peft import PeftModel
    from transformers import LlamaForCausalLM

    base = tensors(os.path.join(d, "base"))
    aligned = tensors(os.path.join(d, "aligned"))
    failed = 0

    def report(ok, text):
        nonlocal failed
        print(("ok   " if ok else "FAIL ") + text)
        failed += 0 if ok else 1

    for name in sorted(os.listdir(os.path.join(d, "adapters"))):
        src = os.path.join(d, "adapters", name)
        orig = load_file(os.path.join(src, "adapter_model.safetensors"))
        ref_model = PeftModel.from_pretrained(build_tiny_llama(0), src)
        scaling = {m: mod.scaling["default"] for m, mod in peft_modules(ref_model)}
        # csulora
        cdir = os.path.join(out, "csulora", name)
        model = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(os.path.join(d, "aligned"),
                                                                           torch_dtype=torch.float32), cdir)
        worst, seen, ks = 0.0, 0, set()
        for m, mod in peft_modules(model):
            key = f"base_model.model.{m}.lora_"
            a = orig[key + "A.weight"].astype(np.float64)
            b = orig[key + "B.weight"].astype(np.float64)
            dmat = aligned[m + ".weight"] - base[m + ".weight"]
            expected, k = csulora(dmat, a, b, scaling[m])
            ks.add(k)
            got = mod.get_delta_weight("default").detach().double().numpy()
            worst = max(worst, float(np.linalg.norm(got - expected) / np.linalg.norm(expected)))
            if abs(mod.scaling["default"] - scaling[m]) > 1e-12:
                report(False, f"{name} {m}: scaling {mod.scaling['default']} != input's {scaling[m]}")
            seen += 1
        report(seen == len(scaling), f"{name} csulora: LoRA layers loaded: {seen} of {len(scaling)}")
        report(worst < 1e-5, f"{name} csulora: PEFT delta weight vs dense CSULoRA, max relative error {worst:.2e}"
               f" (k = {sorted(ks)})")
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([[1, 2, 3, 4]])).logits
        report(bool(torch.isfinite(logits).all()), f"{name} csulora: forward pass finite")
        # safelora, as PR #2201 computes it (float64 here), projected once from the original B
        sdir = os.path.join(out, "safelora", name)
        model = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(os.path.join(d, "aligned"),
                                                                           torch_dtype=torch.float32), sdir)
        cos, projected = {}, {}
        for m in scaling:
            key = f"base_model.model.{m}.lora_"
            a = torch.from_numpy(orig[key + "A.weight"].astype(np.float64))
            b = torch.from_numpy(orig[key + "B.weight"].astype(np.float64))
            vec = torch.from_numpy(base[m + ".weight"] - aligned[m + ".weight"])
            p = torch.mm(vec, vec.t()) / torch.norm(vec)
            w = torch.mm(p, b)
            cos[m] = np.round(torch.nn.functional.cosine_similarity(torch.mm(w, a).reshape(1, -1),
                                                                    torch.mm(b, a).reshape(1, -1)).item(), 5)
            projected[m] = w.numpy()
        thrs = np.sort(list(cos.values()))[:LAYERS][-1]
        worst, chosen = 0.0, 0
        for m, mod in peft_modules(model):
            key = f"base_model.model.{m}.lora_"
            got_b = mod.lora_B["default"].weight.detach().double().numpy()
            got_a = mod.lora_A["default"].weight.detach().double().numpy()
            exp_b = projected[m] if cos[m] <= thrs else orig[key + "B.weight"].astype(np.float64)
            chosen += 1 if cos[m] <= thrs else 0
            worst = max(worst, float(np.abs(got_b - exp_b).max() / max(np.abs(exp_b).max(), 1e-30)))
            worst = max(worst, float(np.abs(got_a - orig[key + "A.weight"]).max()))
        report(worst < 1e-5, f"{name} safelora: lora_B = C.B on {chosen} of {len(cos)} modules (cut {thrs}), "
               f"the input's elsewhere; max relative error {worst:.2e}")
        cfg_in = json.load(open(os.path.join(src, "adapter_config.json")))
        cfg_out = json.load(open(os.path.join(cdir, "adapter_config.json")))
        report(cfg_in == cfg_out, f"{name}: adapter_config.json kept")
    print(f"correct_check: {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fixture":
        sys.exit(fixture(sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    print(__doc__)
    sys.exit(2)
