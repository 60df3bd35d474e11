"""Benchmark (docs/benchmarks.md): statistics where the model runs, in one run on the same model and tokens.

    bench_model_stats.py DIR [--hidden 1024 --layers 4 --samples 64 --tokens 128 --files 2 --scales 1,2,4]

1. HF PEFT: CorDA's own statistics step in process (peft.tuners.lora.corda.calib_cov_distribution: forward passes
   with its covariance hook on every target module; float32), timed alone on a model already in memory; and the same
   as a user's script, timed as a whole process (peft_corda_stats.py: imports, from_pretrained, statistics).
2. loraspace, capture path: capture_hf.py (activations to Parquet) + `loraspace stats` (a JVM, local Spark).
3. loraspace, model mode: `loraspace stats --set tokens=... --set model=...` (a JVM, local Spark, Python workers).
Each prints wall seconds and bytes written; the ratios are to (1) in the same run. With --scales, model mode and PEFT
are repeated at 2× and 4× the samples to show how time grows with tokens. JVM start-up is included for loraspace.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "capture"))

import capture_hf  # noqa: E402
from peft_corda_stats import MODULES, add_allocator_option, apply_allocator, corda_statistics  # noqa: E402
from tiny_llama import TINY_LLAMA_CONFIG  # noqa: E402


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(d, f))
    return total


def loraspace(args):
    t0 = time.perf_counter()
    r = subprocess.run([os.path.join(ROOT, "scripts", "loraspace")] + args, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("loraspace failed:\n" + r.stderr[-3000:])
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--files", type=int, default=2, help="token-corpus files (= concurrent model-mode tasks)")
    p.add_argument("--scales", default="1", help="comma list of sample multipliers for PEFT and model mode")
    p.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra option for the model-mode `stats` runs (repeatable), e.g. samples-per-task=128")
    p.add_argument("--no-capture", dest="capture", action="store_false",
                   help="skip the capture path (its activations are ~74 KB per token at hidden 1024)")
    p.add_argument("--peft-calls", type=int, default=2,
                   help="PEFT in-process calls at the first scale; the fastest is the reference (default 2)")
    add_allocator_option(p)
    a = p.parse_args()
    apply_allocator(a.allocator)
    from transformers import LlamaConfig, LlamaForCausalLM

    os.makedirs(a.dir, exist_ok=True)
    cfg = dict(TINY_LLAMA_CONFIG)
    cfg.update(hidden_size=a.hidden, num_hidden_layers=a.layers, intermediate_size=a.hidden * 3 // 2,
               num_attention_heads=max(1, a.hidden // 64), num_key_value_heads=max(1, a.hidden // 128),
               max_position_embeddings=max(128, a.tokens))
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**cfg)).eval()
    base = os.path.join(a.dir, "base")
    model.save_pretrained(base, safe_serialization=True)
    print(f"model: hidden {a.hidden}, {a.layers} layers; torch threads {torch.get_num_threads()}; "
          f"allocator {a.allocator}; model-mode options {a.model_option or 'none'}; "
          f"load {os.getloadavg()[0]:.1f}")

    for scale in [int(s) for s in a.scales.split(",")]:
        n = a.samples * scale
        g = torch.Generator().manual_seed(1)
        ids = [torch.randint(0, cfg["vocab_size"], (a.tokens,), generator=g).tolist() for _ in range(n)]
        tokens_dir = os.path.join(a.dir, f"tokens-{n}")
        shutil.rmtree(tokens_dir, ignore_errors=True)
        per = (n + a.files - 1) // a.files
        for f in range(a.files):
            part = [("plus", i, ids[i]) for i in range(f * per, min(n, (f + 1) * per))]
            capture_hf.write_token_corpus(os.path.join(a.dir, f"tmp-{f}"), part)
            os.makedirs(tokens_dir, exist_ok=True)
            os.replace(os.path.join(a.dir, f"tmp-{f}", "part-00000.parquet"),
                       os.path.join(tokens_dir, f"part-{f:05d}.parquet"))
            shutil.rmtree(os.path.join(a.dir, f"tmp-{f}"))

        t0 = time.perf_counter()
        corda_statistics(model, ids)
        t_peft = time.perf_counter() - t0
        print(f"[{n} samples × {a.tokens} tokens] PEFT CorDA statistics (in process): {t_peft:.2f} s, 0 bytes written")
        if scale == int(a.scales.split(",")[0]) and a.peft_calls > 1:
            # PEFT's first call in a process has been up to 2x slower than later ones (with glibc's default
            # allocator: docs/benchmarks.md, "stats model mode"): time it again and compare with the faster of the two
            # (the conservative ratio for loraspace).
            calls = [t_peft]
            for _ in range(a.peft_calls - 1):
                t0 = time.perf_counter()
                corda_statistics(model, ids)
                calls.append(time.perf_counter() - t0)
            print(f"[{n} samples] PEFT again in the same process: "
                  f"{', '.join(f'{c:.2f}' for c in calls[1:])} s; ratios below use {min(calls):.2f} s")
            t_peft = min(calls)

        # PEFT as a user runs it: a process that imports, loads the checkpoint and computes the same statistics.
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, os.path.join(HERE, "peft_corda_stats.py"), base, tokens_dir,
                            "--allocator", a.allocator], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           check=True)
        t_script = time.perf_counter() - t0
        print(f"[{n} samples] PEFT CorDA statistics as a script (imports, from_pretrained, statistics): "
              f"{t_script:.2f} s ({r.stdout.strip().split(': ', 1)[-1]})")

        if scale == 1 and a.capture:
            corpus = os.path.join(a.dir, "activations")
            shutil.rmtree(corpus, ignore_errors=True)
            t0 = time.perf_counter()
            capture_hf.main(["--model", base, "--dataset", f"plus=tokens:{tokens_dir}", "--out", corpus,
                             "--rows-per-file", "100000"])
            t_cap = time.perf_counter() - t0
            t_stats = loraspace(["stats", "--set", "input=" + corpus, "--set", "out=" + os.path.join(a.dir, "st-cap"),
                                 "--set", "overwrite=true"])
            print(f"[{n} samples] capture + stats: {t_cap + t_stats:.2f} s (capture {t_cap:.2f}, stats "
                  f"{t_stats:.2f}), {du(corpus)} bytes of activations + {du(os.path.join(a.dir, 'st-cap'))} bytes of "
                  f"store written; ratio to PEFT {(t_cap + t_stats) / t_peft:.2f}")
        out = os.path.join(a.dir, f"st-model-{n}")
        t_model = loraspace(["stats", "--set", "tokens=" + tokens_dir, "--set", "model=" + base, "--set",
                             "python=" + sys.executable, "--set", "out=" + out, "--set", "overwrite=true",
                             "--set", "model-modules=" + ",".join(MODULES)]
                            + [x for o in a.model_option for x in ("--set", o)])
        print(f"[{n} samples] model mode: {t_model:.2f} s, {du(out)} bytes written (statistics only); ratio to PEFT "
              f"{t_model / t_peft:.2f} (to PEFT as a script {t_model / t_script:.2f}); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
