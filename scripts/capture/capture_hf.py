"""Capture hook for HF transformers models: writes activation (and gradient) blocks in the loraspace data contract v1
(docs/data-contract.md) for the `stats` job.

For each sample it runs the model with PyTorch hooks on the chosen nn.Linear modules: a forward pre-hook records each
module's input; modules that receive the *same input tensor* in a forward pass (q/k/v, gate/up) form one capture site,
written once. With --gradients, the LM loss of the sample is back-propagated and the output gradients dℓ/dy of every
chosen module are written next to their site's input, over the same tokens.

    python scripts/capture/capture_hf.py --model tiny-llama --dataset plus=random:1 --dataset minus=random:2 \
        --samples 32 --max-tokens 64 --gradients --out /tmp/corpus

SOURCE of a dataset: random:SEED (random token ids), a .txt file (one sample per line) or a .jsonl file (a "text"
field per line). Text needs a tokenizer: the model path's AutoTokenizer, or bytes modulo the vocabulary for tiny-llama.
"""

import argparse
import json
import os
import re
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))

CONTRACT = {"loraspace.contract": "activations", "loraspace.contract.version": "1"}

SCHEMA = pa.schema([
    pa.field("dataset", pa.string(), nullable=False),
    pa.field("sample", pa.int64(), nullable=False),
    pa.field("block", pa.int32(), nullable=False),
    pa.field("site", pa.string(), nullable=False),
    pa.field("modules", pa.list_(pa.field("element", pa.string(), nullable=False)), nullable=False),
    pa.field("tokens", pa.int32(), nullable=False),
    pa.field("dim", pa.int32(), nullable=False),
    pa.field("dtype", pa.string(), nullable=False),
    pa.field("input", pa.binary(), nullable=False),
    pa.field("grads", pa.list_(pa.field("element", pa.struct([
        pa.field("module", pa.string(), nullable=False),
        pa.field("dim", pa.int32(), nullable=False),
        pa.field("data", pa.binary(), nullable=False)]), nullable=False)), nullable=True),
])


def encode(t: torch.Tensor, dtype: str) -> bytes:
    """Row-major little-endian bytes of a 2-D tensor in F32, BF16 or F16."""
    t = t.detach().contiguous().cpu()
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    if dtype == "F16":
        return t.to(torch.float16).numpy().astype("<f2").tobytes()
    if dtype == "BF16":
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    raise ValueError(f"unknown dtype {dtype}")


def select_modules(model, spec: str):
    """Linear modules matching `spec`: a comma list matched like PEFT's target_modules (equal, or a dotted suffix),
    or re:REGEX for a full-match regex."""
    out = []
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear):
            continue
        if spec.startswith("re:"):
            ok = re.fullmatch(spec[3:], name) is not None
        else:
            ok = any(name == t or name.endswith("." + t) for t in spec.split(","))
        if ok:
            out.append(name)
    if not out:
        raise SystemExit(f"capture_hf: --modules '{spec}' matches no nn.Linear module of the model")
    return out


def site_name(modules):
    """One module: '<module>.in'; several (same input): '<common parent>.in'."""
    if len(modules) == 1:
        return modules[0] + ".in"
    parts = [m.split(".") for m in modules]
    prefix = []
    for level in zip(*parts):
        if all(p == level[0] for p in level):
            prefix.append(level[0])
        else:
            break
    return ".".join(prefix) + ".in" if prefix else "+".join(modules) + ".in"


def samples_of(source: str, n: int, max_tokens: int, vocab: int, tokenizer):
    """Token id lists for a dataset source."""
    if source.startswith("random:"):
        g = torch.Generator().manual_seed(int(source.split(":", 1)[1]))
        for _ in range(n):
            length = int(torch.randint(max(2, max_tokens // 4), max_tokens + 1, (1,), generator=g))
            yield torch.randint(0, vocab, (length,), generator=g).tolist()
        return
    with open(source, encoding="utf-8") as fh:
        count = 0
        for line in fh:
            line = line.strip()
            if not line:
                continue
            text = json.loads(line)["text"] if source.endswith(".jsonl") else line
            ids = tokenizer(text) if tokenizer else [b % vocab for b in text.encode("utf-8")]
            ids = ids[:max_tokens]
            if len(ids) >= 2:
                yield ids
                count += 1
                if count >= n:
                    return


class Capture:
    """Hooks that record inputs (grouped into sites) and output gradients of the chosen modules."""

    def __init__(self, model, names, gradients):
        self.names = names
        self.gradients = gradients
        self.inputs = {}
        self.input_owner = {}
        self.grads = {}
        self.handles = []
        modules = dict(model.named_modules())
        for name in names:
            m = modules[name]
            self.handles.append(m.register_forward_pre_hook(self._pre(name)))
            if gradients:
                self.handles.append(m.register_forward_hook(self._post(name)))

    def reset(self):
        self.inputs.clear()
        self.input_owner.clear()
        self.grads.clear()

    def _pre(self, name):
        def hook(module, args):
            x = args[0]
            self.inputs[name] = x.detach()[0].clone()
            # Group modules by the identity of the tensor object they read in this forward pass. The reference is
            # kept until reset(), so no two live inputs can share an id() (ids of freed objects are reused).
            self.input_owner[name] = x
        return hook

    def _post(self, name):
        def hook(module, args, output):
            def grad_hook(g):
                self.grads[name] = g.detach()[0].clone()
            output.register_hook(grad_hook)
        return hook

    def sites(self):
        """[(site, [modules])] in module order, modules grouped by shared input tensor."""
        groups = []
        for name in self.names:
            for tensor, mods in groups:
                if tensor is self.input_owner[name]:
                    mods.append(name)
                    break
            else:
                groups.append((self.input_owner[name], [name]))
        out = []
        seen = set()
        for _, mods in groups:
            s = site_name(mods)
            if s in seen:
                s = "+".join(mods) + ".in"
            seen.add(s)
            out.append((s, mods))
        return out

    def close(self):
        for h in self.handles:
            h.remove()


def load_model(spec, seed):
    if spec == "tiny-llama":
        from tiny_llama import build_tiny_llama
        return build_tiny_llama(seed), None
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(spec, dtype=torch.float32)
    model.eval()
    try:
        tok = AutoTokenizer.from_pretrained(spec)
    except (OSError, ValueError):
        # A checkpoint without tokenizer files (random:SEED sources need none; text falls back to bytes).
        return model, None
    return model, (lambda text: tok(text)["input_ids"])


def capture(args):
    torch.manual_seed(args.seed)
    model, tokenizer = load_model(args.model, args.seed)
    names = select_modules(model, args.modules)
    vocab = model.config.vocab_size
    cap = Capture(model, names, args.gradients)
    os.makedirs(args.out, exist_ok=True)
    rows = []
    file_index = 0
    written = []

    def flush():
        nonlocal rows, file_index
        if not rows:
            return
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        meta = dict(CONTRACT)
        meta["loraspace.producer"] = "capture_hf.py"
        table = table.replace_schema_metadata(meta)
        path = os.path.join(args.out, f"part-{file_index:05d}.parquet")
        pq.write_table(table, path, compression="NONE", use_dictionary=["dataset", "site", "dtype"])
        written.append(path)
        file_index += 1
        rows = []

    for spec in args.dataset:
        name, source = spec.split("=", 1)
        for sample, ids in enumerate(samples_of(source, args.samples, args.max_tokens, vocab, tokenizer)):
            cap.reset()
            input_ids = torch.tensor([ids])
            if args.gradients:
                model.zero_grad(set_to_none=True)
                out = model(input_ids=input_ids, labels=input_ids)
                out.loss.backward()
            else:
                with torch.no_grad():
                    model(input_ids=input_ids)
            t = len(ids)
            for site, mods in cap.sites():
                x = cap.inputs[mods[0]]
                for block, start in enumerate(range(0, t, args.block_tokens)):
                    end = min(t, start + args.block_tokens)
                    grads = None
                    if args.gradients:
                        grads = [{"module": m, "dim": int(cap.grads[m].shape[1]),
                                  "data": encode(cap.grads[m][start:end], args.dtype)} for m in mods]
                    rows.append({"dataset": name, "sample": sample, "block": block, "site": site,
                                 "modules": mods, "tokens": end - start, "dim": int(x.shape[1]),
                                 "dtype": args.dtype, "input": encode(x[start:end], args.dtype), "grads": grads})
            if len(rows) >= args.rows_per_file:
                flush()
    flush()
    cap.close()
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="tiny-llama or a HF model directory")
    p.add_argument("--dataset", action="append", required=True, help="NAME=SOURCE (repeatable)")
    p.add_argument("--samples", type=int, default=32, help="samples per dataset")
    p.add_argument("--max-tokens", type=int, default=64, help="tokens per sample at most")
    p.add_argument("--block-tokens", type=int, default=32, help="tokens per row (block)")
    p.add_argument("--modules", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                   help="comma list like PEFT target_modules, or re:REGEX")
    p.add_argument("--gradients", action="store_true", help="also write output gradients of the LM loss")
    p.add_argument("--dtype", default="F32", choices=["F32", "BF16", "F16"])
    p.add_argument("--rows-per-file", type=int, default=4096)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    files = capture(args)
    print(f"capture_hf: wrote {len(files)} file(s) to {args.out}")


if __name__ == "__main__":
    main()
