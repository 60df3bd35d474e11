"""Self-check of the capture hook on the tiny random Llama, against an independent recomputation, plus the numpy
statistics of what was written (for the end-to-end test capture → stats).

    python scripts/capture/check_capture.py OUT_DIR

1. Runs capture_hf.py (two datasets of random token ids, gradients on, blocks smaller than samples) into OUT_DIR/corpus.
2. Recomputes every module's input and dLoss/dOutput independently: a plain forward with forward hooks that keep the
   module outputs in the graph, then torch.autograd.grad(loss, outputs). Compares with the decoded Parquet rows.
3. Writes OUT_DIR/expected.safetensors: per (dataset, site) token Gram/sum, sample Gram, Σ T_s x̂, and per
   (dataset, module) Σ g xᵀ and Σ g∘g, all computed with numpy (float64) from the Parquet bytes; keys
   "<kind>|<dataset>|<name>". And OUT_DIR/expected.json with counts.
Exits 1 with a line per mismatch.
"""

import json
import os
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pyarrow.parquet as pq
import torch
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
from tiny_llama import build_tiny_llama  # noqa: E402

SAMPLES = 4
MAX_TOKENS = 24
BLOCK = 7
DATASETS = {"plus": 11, "minus": 12}


def decode(buf, rows, cols, dtype):
    if dtype == "F32":
        return np.frombuffer(buf, dtype="<f4").astype(np.float64).reshape(rows, cols)
    if dtype == "F16":
        return np.frombuffer(buf, dtype="<f2").astype(np.float64).reshape(rows, cols)
    raw = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
    return raw.view(np.float32).astype(np.float64).reshape(rows, cols)


def main():
    out = sys.argv[1]
    corpus = os.path.join(out, "corpus")
    cmd = [sys.executable, os.path.join(HERE, "capture_hf.py"), "--model", "tiny-llama", "--samples", str(SAMPLES),
           "--max-tokens", str(MAX_TOKENS), "--block-tokens", str(BLOCK), "--gradients", "--rows-per-file", "40",
           "--out", corpus]
    for name, seed in DATASETS.items():
        cmd += ["--dataset", f"{name}=random:{seed}"]
    subprocess.run(cmd, check=True)

    rows = []
    for f in sorted(os.listdir(corpus)):
        if f.endswith(".parquet"):
            pf = pq.ParquetFile(os.path.join(corpus, f))
            meta = pf.metadata.metadata
            assert meta[b"loraspace.contract"] == b"activations" and meta[b"loraspace.contract.version"] == b"1", meta
            rows += pf.read().to_pylist()

    errors = []
    # Independent recomputation, sample by sample (the same token ids as the capture: same generator and seed).
    model = build_tiny_llama(0)
    linears = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n != "lm_head"}
    from capture_hf import samples_of  # the token source only; not the hooks under test
    checked = 0
    for name, seed in DATASETS.items():
        for sample, ids in enumerate(samples_of(f"random:{seed}", SAMPLES, MAX_TOKENS, model.config.vocab_size,
                                                None)):
            inputs, outputs = {}, {}
            hooks = []
            for mname, m in linears.items():
                def fwd(mod, args, output, mname=mname):
                    inputs[mname] = args[0][0].detach().double()
                    outputs[mname] = output
                hooks.append(m.register_forward_hook(fwd))
            input_ids = torch.tensor([ids])
            loss = model(input_ids=input_ids, labels=input_ids).loss
            names = list(outputs)
            grads = torch.autograd.grad(loss, [outputs[n] for n in names])
            grad = {n: g[0].double() for n, g in zip(names, grads)}
            for h in hooks:
                h.remove()
            mine = [r for r in rows if r["dataset"] == name and r["sample"] == sample]
            for r in mine:
                start = r["block"] * BLOCK
                x = decode(r["input"], r["tokens"], r["dim"], r["dtype"])
                for m in r["modules"]:
                    want = inputs[m][start:start + r["tokens"]].numpy()
                    if not np.array_equal(x, want):
                        errors.append(f"{name}/{sample}/{r['site']}/{r['block']}: input of {m} differs")
                for g in r["grads"] or []:
                    got = decode(g["data"], r["tokens"], g["dim"], r["dtype"])
                    want = grad[g["module"]][start:start + r["tokens"]].numpy()
                    err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)
                    if err > 1e-6:
                        errors.append(f"{name}/{sample}/{g['module']}/{r['block']}: gradient rel err {err:.2e}")
                checked += 1
            tokens = sum(r["tokens"] for r in mine if r["site"] == mine[0]["site"])
            if tokens != len(ids):
                errors.append(f"{name}/{sample}: blocks hold {tokens} tokens, sample has {len(ids)}")

    # Numpy statistics of the written rows.
    tensors, counts = {}, defaultdict(dict)
    site_acc = defaultdict(lambda: {"T": 0, "s": 0, "n": 0, "samples": defaultdict(lambda: [0, 0])})
    mod_acc = defaultdict(lambda: {"C": 0, "q": 0, "n": 0, "samples": set()})
    for r in rows:
        x = decode(r["input"], r["tokens"], r["dim"], r["dtype"])
        a = site_acc[(r["dataset"], r["site"])]
        a["T"] = a["T"] + x.T @ x
        a["s"] = a["s"] + x.sum(0)
        a["n"] += len(x)
        a["samples"][r["sample"]][0] = a["samples"][r["sample"]][0] + x.sum(0)
        a["samples"][r["sample"]][1] += len(x)
        for g in r["grads"] or []:
            gm = decode(g["data"], r["tokens"], g["dim"], r["dtype"])
            b = mod_acc[(r["dataset"], g["module"])]
            b["C"] = b["C"] + gm.T @ x
            b["q"] = b["q"] + (gm * gm).sum(0)
            b["n"] += len(gm)
            b["samples"].add(r["sample"])
    for (ds, site), a in site_acc.items():
        xs = np.stack([v[0] for v in a["samples"].values()])
        ts = np.array([v[1] for v in a["samples"].values()], dtype=np.float64)
        tensors[f"token_gram|{ds}|{site}"] = a["T"]
        tensors[f"token_sum|{ds}|{site}"] = a["s"]
        tensors[f"sample_gram|{ds}|{site}"] = xs.T @ xs
        tensors[f"sample_token_weighted_sum|{ds}|{site}"] = (ts[:, None] * xs).sum(0)
        counts[f"{ds}|{site}"] = {"tokens": a["n"], "samples": len(ts), "sumTokensSquared": float((ts * ts).sum())}
    for (ds, mod), b in mod_acc.items():
        tensors[f"grad_input_cross|{ds}|{mod}"] = b["C"]
        tensors[f"grad_sq_sum|{ds}|{mod}"] = b["q"]
        counts[f"{ds}|{mod}"] = {"tokens": b["n"], "samples": len(b["samples"])}
    save_file({k: np.ascontiguousarray(v, dtype=np.float64) for k, v in tensors.items()},
              os.path.join(out, "expected.safetensors"))
    with open(os.path.join(out, "expected.json"), "w") as fh:
        json.dump({"rows": len(rows), "checkedRows": checked, "counts": counts}, fh, indent=1, sort_keys=True)

    if errors:
        for e in errors:
            print("MISMATCH", e)
        sys.exit(1)
    print(f"check_capture: {len(rows)} rows checked against an independent forward/backward; "
          f"{len(site_acc)} sites, {len(mod_acc)} modules with numpy statistics")


if __name__ == "__main__":
    main()
