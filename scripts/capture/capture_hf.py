"""Capture hook for HF transformers models: writes activation (and gradient) blocks in the loraspace data contract v1
(docs/data-contract.md) for the `stats` job.

For each sample it runs the model with PyTorch hooks on the chosen nn.Linear modules: a forward pre-hook records each
module's input; modules that receive the *same input tensor* in a forward pass (q/k/v, gate/up) form one capture site,
written once. With --gradients, the LM loss of the sample is back-propagated and the output gradients dℓ/dy of every
chosen module are written next to their site's input, over the same tokens.

    python scripts/capture/capture_hf.py --model tiny-llama --dataset plus=random:1 --dataset minus=random:2 \
        --samples 32 --max-tokens 64 --gradients --out /tmp/corpus

SOURCE of a dataset: random:SEED (random token ids), tokens:DIR (that dataset's rows of a token corpus, e.g. one
written by --write-tokens), a .txt file (one sample per line) or a .jsonl file (a "text" field per line). Text needs a tokenizer: the model path's AutoTokenizer, or bytes modulo the vocabulary for tiny-llama.
"""

import argparse
import json
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
sys.path.insert(0, HERE)
from capture_hooks import Capture, CaptureError, forward, load_model, select_modules  # noqa: E402

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


TOKENS_SCHEMA = pa.schema([
    pa.field("dataset", pa.string(), nullable=False),
    pa.field("sample", pa.int64(), nullable=False),
    pa.field("input_ids", pa.list_(pa.field("element", pa.int32(), nullable=False)), nullable=False),
])
TOKENS_CONTRACT = {"loraspace.contract": "tokens", "loraspace.contract.version": "1"}


def read_token_corpus(directory: str, dataset: str):
    """(sample, ids) of one dataset of a token corpus (docs/data-contract.md, "Token corpus"), in file then row order."""
    for f in sorted(os.listdir(directory)):
        if not f.endswith(".parquet") or f.startswith((".", "_")):
            continue
        table = pq.read_table(os.path.join(directory, f))
        for row in table.to_pylist():
            if row["dataset"] == dataset:
                yield row["sample"], row["input_ids"]


def write_token_corpus(directory: str, rows):
    """Writes [(dataset, sample, ids)] as one token-corpus file."""
    os.makedirs(directory, exist_ok=True)
    table = pa.Table.from_pylist([{"dataset": d, "sample": s, "input_ids": ids} for d, s, ids in rows],
                                 schema=TOKENS_SCHEMA).replace_schema_metadata(TOKENS_CONTRACT)
    pq.write_table(table, os.path.join(directory, "part-00000.parquet"))


def padded_batch(samples):
    """One right-padded batch of token id lists and its attention mask (causal attention: real tokens unaffected)."""
    width = max(len(s) for s in samples)
    ids = torch.zeros(len(samples), width, dtype=torch.long)
    mask = torch.zeros(len(samples), width, dtype=torch.long)
    for i, s in enumerate(samples):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return {"input_ids": ids, "attention_mask": mask}


# Payload bytes per Parquet row group of the activation files (see flush() in main).
ROW_GROUP_BYTES = 64 << 20


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
        # Row groups of at most ROW_GROUP_BYTES of payload: a Parquet reader holds a whole row group's column chunk in
        # memory (parquet-mr: one heap buffer per chunk), so one group per file made readers allocate the file's size.
        payload = sum(len(r["input"]) + sum(len(g["data"]) for g in (r["grads"] or [])) for r in rows)
        per_group = max(1, int(len(rows) * ROW_GROUP_BYTES // max(1, payload)))
        pq.write_table(table, path, compression="NONE", use_dictionary=["dataset", "site", "dtype"],
                       row_group_size=per_group)
        written.append(path)
        file_index += 1
        rows = []

    used_tokens = []
    for spec in args.dataset:
        name, source = spec.split("=", 1)
        if source.startswith("tokens:"):
            samples = read_token_corpus(source[len("tokens:"):], name)
        else:
            samples = enumerate(samples_of(source, args.samples, args.max_tokens, vocab, tokenizer))
        for sample, ids in samples:
            used_tokens.append((name, sample, ids))
            forward(model, cap, ids, args.gradients)
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
    if args.write_tokens:
        write_token_corpus(args.write_tokens, used_tokens)
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
    p.add_argument("--write-tokens", help="also write the samples used as a token corpus (for `stats` model mode)")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        files = capture(args)
    except CaptureError as e:
        raise SystemExit(f"capture_hf: {e}")
    print(f"capture_hf: wrote {len(files)} file(s) to {args.out}")


if __name__ == "__main__":
    # Keep freed memory in the process: the hooks free a sample's captured inputs at once, and handing them back to the
    # kernel made every forward pass fault them in again (capture_hooks.keep_freed_memory). Only when run as a script:
    # the benchmarks call main() in a process whose allocator they set themselves.
    from capture_hooks import keep_freed_memory
    keep_freed_memory()
    main()
