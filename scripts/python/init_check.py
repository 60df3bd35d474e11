"""Interop checks of the `init` job against HF PEFT and independent references on the tiny Llama.

    init_check.py fixture DIR   writes DIR/base (sharded F32 safetensors + config), DIR/base-bf16 (the same model in
                                BF16) and DIR/corpus (capture of datasets plus=random:1 and minus=random:2)
    init_check.py check DIR     after `stats` (DIR/stats) and `init` (DIR/init) ran: compares every variant with the
                                references below, writes DIR/init_check.json, exits 1 when a check fails
    init_check.py gradcheck DIR after `init` with methods lora-da,lora-one (DIR/init-grad, lora-da-n = LORA_DA_N,
                                default damping): checks them against a numpy reference built from gradients captured
                                here with autograd hooks, reports the LM loss before/after each init, writes
                                DIR/init_gradcheck.json, exits 1 when a check fails

Checks (tolerances in init_check.json):
- residual + adapter loaded with transformers + PEFT give the base model's logits (every variant with a residual);
  EVA loads and has lora_B = 0;
- PiSSA equals PEFT's `init_lora_weights="pissa"` (products s·B·A and residual weights);
- CorDA IPA/KPA equal PEFT's CorDA when PEFT is given our covariance through `covariance_file`: PEFT's own code run
  in float64 to the F32 storage precision of the adapter; PEFT as shipped (float32 SVD) within twice the distance
  between its own float32 and float64 results;
- EVA components agree with PEFT's EVA (rho = 1: no redistribution) run on the same token ids, to PEFT's own
  convergence criterion (|cosine| >= tau = 0.99 per component);
- SC-LoRA's s·B·A equals Q Qᵀ W with Q from numpy's eigh of ΔCov built from module outputs captured directly with
  forward hooks (per-sample sums over tokens), i.e. without our input-statistics identity.
- gradcheck: LoRA-DA's s·B·A equals the transposed paper update (A_p B_p)ᵀ with Z_f, y, Ḡ, Δ, Ω and the bottom-r
  eigenvectors computed in numpy (float64) from per-token inputs and output gradients of the LM loss; LoRA-One's
  s·B·A equals (s/γ) times the rank-r truncated SVD of −Ḡ; both load in PEFT; LoRA-One (small step) lowers the mean
  LM loss of the statistics samples, LoRA-DA's loss is reported.
"""

import glob
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import load_file as load_np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "capture"))

from tiny_llama import build_tiny_llama  # noqa: E402
import capture_hf  # noqa: E402

MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
DATASETS = {"plus": "random:1", "minus": "random:2"}
SAMPLES = 24
MAX_TOKENS = 32
R = 8
ALPHA = 16.0
LORA_DA_N = 1000
DAMPING = 1e-3  # the init job's default lora-da-z-damping and lora-da-y-damping


def shaped_tiny_llama(dtype=torch.float32):
    """The tiny Llama with token embeddings of decaying spectrum (column i scaled by 0.7^i): layer inputs then have
    separated leading eigenvalues, so that eigenvectors are determined by the data and comparable across methods."""
    model = build_tiny_llama(0)
    with torch.no_grad():
        emb = model.model.embed_tokens.weight
        emb.mul_(torch.pow(torch.tensor(0.7), torch.arange(emb.shape[1], dtype=torch.float32)) * 3.0)
    return model.to(dtype)


def fixture(d):
    model = shaped_tiny_llama()
    model.save_pretrained(os.path.join(d, "base"), safe_serialization=True, max_shard_size="200KB")
    shaped_tiny_llama(torch.bfloat16).save_pretrained(os.path.join(d, "base-bf16"), safe_serialization=True)
    args = ["--model", os.path.join(d, "base"), "--samples", str(SAMPLES), "--max-tokens", str(MAX_TOKENS),
            "--out", os.path.join(d, "corpus"), "--gradients"]
    for name, src in DATASETS.items():
        args += ["--dataset", f"{name}={src}"]
    capture_hf.main(args)


def samples(dataset, vocab):
    return list(capture_hf.samples_of(DATASETS[dataset], SAMPLES, MAX_TOKENS, vocab, None))


def load_base(d, sub="base"):
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(os.path.join(d, sub), dtype=torch.float32)
    m.eval()
    return m


def residual_state(variant_dir):
    idx = json.load(open(os.path.join(variant_dir, "residual", "model.safetensors.index.json")))
    out = {}
    for name, fname in idx["weight_map"].items():
        t = load_np(os.path.join(variant_dir, "residual", fname))
        out[name] = torch.from_numpy(t[name].astype(np.float32))
    return out


def adapter_products(adapter_dir):
    """{module: s·B·A} of a saved adapter, from its files only."""
    cfg = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
    w = load_np(os.path.join(adapter_dir, "adapter_model.safetensors"))
    out = {}
    for key in w:
        if key.endswith(".lora_A.weight"):
            module = key[len("base_model.model."):-len(".lora_A.weight")]
            a = w[key].astype(np.float64)
            b = w[key.replace("lora_A", "lora_B")].astype(np.float64)
            r = cfg["rank_pattern"].get(module, cfg["r"])
            alpha = cfg["alpha_pattern"].get(module, cfg["lora_alpha"])
            out[module] = (alpha / r) * b @ a, a, b
    return out


def rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def peft_products(model):
    """{module: (s·B·A, base weight)} of a PEFT model."""
    out = {}
    for name, mod in model.named_modules():
        if hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
            a = mod.lora_A["default"].weight.detach().double().numpy()
            b = mod.lora_B["default"].weight.detach().double().numpy()
            s = mod.scaling["default"]
            base = mod.get_base_layer().weight.detach().double().numpy()
            out[name.replace("base_model.model.", "", 1)] = (s * b @ a, base)
    return out


class Checks:
    def __init__(self):
        self.rows = []

    def add(self, name, value, tol, kind="max"):
        ok = {"max": value <= tol, "min": value >= tol, "below": value < tol}[kind]
        self.rows.append({"check": name, "value": value, "tolerance": tol, "kind": kind, "ok": bool(ok)})
        op = {"max": "<=", "min": ">=", "below": "<"}[kind]
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {value:.3e} ({op} {tol:g})")


def check(d):
    from peft import EvaConfig, LoraConfig, PeftModel, get_peft_model
    from peft.tuners.lora.config import CordaConfig
    from peft.tuners.lora.corda import preprocess_corda
    from peft.tuners.lora.eva import initialize_lora_eva_weights

    checks = Checks()
    init = os.path.join(d, "init")
    variants = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(init, "*", "report.json")))
    assert variants, f"no variants under {init}"
    base = load_base(d)
    vocab = base.config.vocab_size
    ids = torch.tensor([samples("plus", vocab)[0]])
    with torch.no_grad():
        ref_logits = base(input_ids=ids).logits

    # 1. residual + adapter == base (and EVA loads with B = 0).
    for v in variants:
        vd = os.path.join(init, v)
        m = load_base(d)
        has_res = os.path.isdir(os.path.join(vd, "residual"))
        if has_res:
            state = residual_state(vd)
            missing = [k for k in state if k not in m.state_dict()]
            assert not missing, f"{v}: residual tensors not in the model: {missing}"
            m.load_state_dict(state, strict=False)
        pm = PeftModel.from_pretrained(m, os.path.join(vd, "adapter"))
        pm.eval()
        n_lora = sum(1 for n, _ in pm.named_modules() if n.endswith("lora_A"))
        checks.add(f"{v}: LoRA layers loaded", float(n_lora), 1.0, kind="min")
        if v == "eva":
            bmax = max(float(p.abs().max()) for n, p in pm.named_parameters() if "lora_B" in n)
            checks.add("eva: max |lora_B|", bmax, 0.0)
        with torch.no_grad():
            logits = pm(input_ids=ids).logits
        diff = float((logits - ref_logits).abs().max() / ref_logits.abs().max())
        checks.add(f"{v}: logits of residual + adapter vs base (max rel)", diff, 2e-5 if has_res else 0.0)

    ours = {v: adapter_products(os.path.join(init, v, "adapter")) for v in variants}
    targets = sorted(next(iter(ours.values())).keys())

    # 2. PiSSA against PEFT.
    if "pissa" in ours:
        pm = get_peft_model(load_base(d), LoraConfig(r=R, lora_alpha=ALPHA, target_modules=MODULES,
                                                     init_lora_weights="pissa"))
        ref = peft_products(pm)
        res = residual_state(os.path.join(init, "pissa"))
        checks.add("pissa: s·B·A vs PEFT (max rel Frobenius)",
                   max(rel(ours["pissa"][m][0], ref[m][0]) for m in targets), 1e-5)
        checks.add("pissa: residual vs PEFT's modified base (max rel)",
                   max(rel(res[m + ".weight"].numpy(), ref[m][1]) for m in targets), 1e-5)

    # 3. CorDA against PEFT given our covariance (token Gram / samples, from the store).
    store = json.load(open(os.path.join(d, "stats", "store.json")))
    for tag, method, dataset in (("corda-ipa", "ipm", "plus"), ("corda-kpa", "kpm", "minus")):
        if tag not in ours:
            continue
        cov = {}
        for site in store["sites"]:
            if site["dataset"] != dataset:
                continue
            f = os.path.join(d, "stats", site["file"])
            from safetensors import safe_open
            with safe_open(f, "np") as fh:
                meta = fh.metadata()
                c = fh.get_tensor("token_gram") / float(meta["sample_count"])
            for module in json.loads(meta["modules"]):
                cov[module] = torch.from_numpy(c)  # float64: PEFT casts to its working precision
        cov_file = os.path.join(d, f"corda-{method}-cov.pt")
        torch.save(cov, cov_file)

        def peft_corda(float64):
            model = load_base(d)
            cfg = LoraConfig(r=R, lora_alpha=ALPHA, target_modules=MODULES, init_lora_weights="corda",
                             corda_config=CordaConfig(covariance_file=cov_file, corda_method=method))
            original = torch.Tensor.float
            if float64:
                # PEFT's CorDA code calls .float() on the weight and the covariance: run the same code in float64.
                torch.Tensor.float = lambda self, *a, **k: self.double()
            try:
                preprocess_corda(model, cfg)
                return peft_products(get_peft_model(model, cfg))
            finally:
                torch.Tensor.float = original

        ref32 = peft_corda(False)
        ref64 = peft_corda(True)
        res = residual_state(os.path.join(init, tag))
        checks.add(f"{tag}: s·B·A vs PEFT's CorDA code run in float64, our covariance_file (max rel)",
                   max(rel(ours[tag][m][0], ref64[m][0]) for m in targets), 2e-7)  # F32 adapter storage
        # PEFT as shipped solves in float32: we must be as close to it as its own float64 run is.
        own = max(rel(ref32[m][0], ref64[m][0]) for m in targets)
        checks.add(f"{tag}: s·B·A vs PEFT CorDA as shipped (float32), bound = 2 × PEFT float32-vs-float64 "
                   f"= {2 * own:.2e} (max rel)", max(rel(ours[tag][m][0], ref32[m][0]) for m in targets),
                   2 * own + 1e-6)
        checks.add(f"{tag}: residual vs PEFT's float64 modified base (max rel)",
                   max(rel(res[m + ".weight"].numpy(), ref64[m][1]) for m in targets), 1e-6)

    # 4. EVA against PEFT's incremental PCA on the same token ids.
    if "eva" in ours:
        model = load_base(d)
        cfg = LoraConfig(r=R, lora_alpha=ALPHA, target_modules=MODULES, init_lora_weights="eva",
                         eva_config=EvaConfig(rho=1.0, tau=0.99))
        pm = get_peft_model(model, cfg)
        # One batch of every sample, right-padded (causal attention: real tokens are unaffected) and masked, so
        # that each incremental-PCA step of PEFT sees exactly the tokens our statistics hold.
        loader = [capture_hf.padded_batch(samples("plus", vocab))]
        torch.manual_seed(0)
        initialize_lora_eva_weights(pm, loader, show_progress_bar=False)
        worst = 1.0
        for name, mod in pm.named_modules():
            if hasattr(mod, "lora_A") and "default" in getattr(mod, "lora_A", {}):
                module = name.replace("base_model.model.", "", 1)
                pa = mod.lora_A["default"].weight.detach().double().numpy()
                oa = ours["eva"][module][1]
                k = min(pa.shape[0], oa.shape[0])
                cos = np.abs(np.sum(pa[:k] * oa[:k], axis=1)) / (
                    np.linalg.norm(pa[:k], axis=1) * np.linalg.norm(oa[:k], axis=1))
                worst = min(worst, float(cos.min()))
        checks.add("eva: min |cosine| per component vs PEFT EVA (tau)", worst, 0.99, kind="min")

    # 5. SC-LoRA against a reference from directly captured outputs.
    sc = [v for v in variants if v.startswith("sc-lora-beta-")]
    if sc:
        model = load_base(d)
        mods = dict(model.named_modules())
        covs = {}
        for dataset in ("plus", "minus"):
            acc = {m: None for m in targets}
            current = {}
            # Per-sample outputs ĥ = Σ_t W x_t, formed in float64 from each layer's hooked input (no Gram, no u).
            weights = {m: mods[m].weight.detach().double() for m in targets}
            handles = [mods[m].register_forward_hook(
                (lambda name: lambda mod, inp, out: current.__setitem__(
                    name, (inp[0][0].double() @ weights[name].T).sum(0)))(m))
                for m in targets]
            ss = samples(dataset, vocab)
            with torch.no_grad():
                for s in ss:
                    current.clear()
                    model(input_ids=torch.tensor([s]))
                    for m in targets:
                        h = current[m].numpy()
                        acc[m] = np.outer(h, h) if acc[m] is None else acc[m] + np.outer(h, h)
            for h in handles:
                h.remove()
            covs[dataset] = {m: acc[m] / len(ss) for m in targets}
        worst = 0.0
        for v in sc:
            beta = float(v[len("sc-lora-beta-"):])
            for m in targets:
                delta = (1 - beta) * covs["plus"][m] - beta * covs["minus"][m]
                vals, vecs = np.linalg.eigh(delta)
                q = vecs[:, ::-1][:, :R]
                w = mods[m].weight.detach().double().numpy()
                worst = max(worst, rel(ours[v][m][0], q @ q.T @ w))
                if os.environ.get("INIT_CHECK_DEBUG"):
                    print(v, m, rel(ours[v][m][0], q @ q.T @ w), vals[::-1][R - 2:R + 2])
        # The adapter stores A and B in F32: its product carries float32 rounding (~4e-8 relative).
        checks.add("sc-lora: s·B·A vs Q Qᵀ W from per-sample outputs summed in numpy (max rel)", worst, 2e-7)

    json.dump({"checks": checks.rows, "variants": variants}, open(os.path.join(d, "init_check.json"), "w"),
              indent=1)
    failed = [c for c in checks.rows if not c["ok"]]
    print(f"init_check: {len(checks.rows)} checks, {len(failed)} failed")
    return 1 if failed else 0


def gradient_statistics(model, ss, targets):
    """Per module: Σ x xᵀ, Σ g∘g, Σ g xᵀ over tokens (float64) and token/sample counts, with g the gradient of each
    sample's mean-token LM loss w.r.t. the module output (the capture's definition), from autograd hooks here."""
    mods = dict(model.named_modules())
    acc = {m: None for m in targets}
    xs, gs = {}, {}
    handles = []
    for m in targets:
        def pre(name):
            return lambda mod, args: xs.__setitem__(name, args[0][0].detach().double().numpy())

        def post(name):
            def hook(mod, args, out):
                out.register_hook(lambda g: gs.__setitem__(name, g[0].detach().double().numpy()))
            return hook
        handles.append(mods[m].register_forward_pre_hook(pre(m)))
        handles.append(mods[m].register_forward_hook(post(m)))
    tokens = 0
    for s in ss:
        model.zero_grad(set_to_none=True)
        ids = torch.tensor([s])
        model(input_ids=ids, labels=ids).loss.backward()
        tokens += len(s)
        for m in targets:
            x, g = xs[m], gs[m]
            z, y, c = x.T @ x, (g * g).sum(0), g.T @ x
            if acc[m] is None:
                acc[m] = [z, y, c]
            else:
                acc[m][0] += z
                acc[m][1] += y
                acc[m][2] += c
    for h in handles:
        h.remove()
    model.zero_grad(set_to_none=True)
    return acc, tokens, len(ss)


def mean_loss(model, ss):
    with torch.no_grad():
        return float(np.mean([float(model(input_ids=torch.tensor([s]), labels=torch.tensor([s])).loss) for s in ss]))


def gradcheck(d):
    from peft import PeftModel
    checks = Checks()
    init = os.path.join(d, "init-grad")
    base = load_base(d)
    vocab = base.config.vocab_size
    ss = samples("plus", vocab)
    ours = {v: adapter_products(os.path.join(init, v, "adapter")) for v in ("lora-da", "lora-one")}
    targets = sorted(ours["lora-da"].keys())
    acc, tokens, n_samples = gradient_statistics(base, ss, targets)
    one_report = json.load(open(os.path.join(init, "lora-one", "report.json")))
    gamma = float(one_report["modules"][0]["gamma"])
    scaling = ALPHA / R
    worst_da = worst_one = 0.0
    for m in targets:
        z_sum, y_sum, cross = acc[m]
        z = z_sum / tokens
        z = z + DAMPING * np.trace(z) / z.shape[0] * np.eye(z.shape[0])
        y = y_sum / tokens
        y = y + DAMPING * y.mean()
        gbar = cross / n_samples  # out×in
        delta = -np.linalg.solve(z, gbar.T / y[None, :])  # in×out
        omega = np.sum(1.0 / y) * np.linalg.inv(z) / LORA_DA_N - delta @ delta.T
        vals, vecs = np.linalg.eigh((omega + omega.T) / 2)
        ap = vecs[:, :R]
        bp = ap.T @ delta
        worst_da = max(worst_da, rel(ours["lora-da"][m][0], (ap @ bp).T))
        u, sv, vt = np.linalg.svd(-gbar, full_matrices=False)
        trunc = (u[:, :R] * sv[:R]) @ vt[:R] * scaling / gamma
        worst_one = max(worst_one, rel(ours["lora-one"][m][0], trunc))
        if os.environ.get("INIT_CHECK_DEBUG"):
            print(m, rel(ours["lora-da"][m][0], (ap @ bp).T), vals[R - 2:R + 2])
    checks.add("lora-da: s·B·A vs (A_p B_p)ᵀ from numpy K-FAC/Ω/eigh on autograd-hooked gradients (max rel)",
               worst_da, 2e-7)  # F32 adapter storage
    checks.add("lora-one: s·B·A vs (s/γ)·SVD_r(−Ḡ) from autograd-hooked gradients (max rel)", worst_one, 2e-7)
    losses = {"base": mean_loss(base, ss)}
    for v in ("lora-da", "lora-one"):
        pm = PeftModel.from_pretrained(load_base(d), os.path.join(init, v, "adapter"))
        pm.eval()
        n_lora = sum(1 for n, _ in pm.named_modules() if n.endswith("lora_A"))
        checks.add(f"{v}: LoRA layers loaded", float(n_lora), float(len(targets)), kind="min")
        losses[v] = mean_loss(pm, ss)
    print("init_check: mean LM loss on the statistics samples: " + ", ".join(
        f"{k} {v:.6f}" for k, v in losses.items()))
    checks.add("lora-one: LM loss after init minus before (first-order step must lower it)",
               losses["lora-one"] - losses["base"], 0.0, kind="below")
    json.dump({"checks": checks.rows, "losses": losses, "gamma": gamma, "N": LORA_DA_N},
              open(os.path.join(d, "init_gradcheck.json"), "w"), indent=1)
    failed = [c for c in checks.rows if not c["ok"]]
    print(f"init_check: {len(checks.rows)} checks, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("fixture", "check", "gradcheck"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "fixture":
        fixture(sys.argv[2])
    elif sys.argv[1] == "gradcheck":
        sys.exit(gradcheck(sys.argv[2]))
    else:
        sys.exit(check(sys.argv[2]))
