"""Benchmark (docs/benchmarks.md): CorDA IPA, PiSSA and EVA initialisation with HF PEFT against loraspace on the same
model and token ids, in one run, side by side.

    bench_corda.py DIR [--hidden H --layers L --samples N --max-tokens T --r R --methods corda,pissa,eva]

PEFT, in this process (the model is built in memory from the same seed, not timed): CorDA = preprocess_corda (its own forward hooks over the samples,
float32) + get_peft_model; PiSSA = get_peft_model(init_lora_weights="pissa") (full float32 SVD per module); EVA =
get_peft_model + initialize_lora_eva_weights (rho = 1, incremental PCA over one padded batch of every sample).

loraspace, each command a separate process timed as a whole (JVM and Spark start-up included):
  statistics, both paths: capture_hf.py (activations to Parquet) + `stats --set input=...`, and `stats` model mode
  (`--set tokens=... --set model=...`: the model runs in a Python worker beside the executor);
  per method: `init` on the store (two JVMs: statistics, then init), and `prepare` (statistics + init in one JVM)
  with the faster statistics path. PiSSA needs no statistics: its figure is `init` alone, without a store (`--methods
  pissa`; with other methods it also runs on their store). Each process's start-up is its wall time minus the job's
  own `total` in manifest.json.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "capture"))

import capture_hf  # noqa: E402
from peft_corda_stats import add_allocator_option, apply_allocator  # noqa: E402
from tiny_llama import TINY_LLAMA_CONFIG  # noqa: E402

MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
METHOD_IDS = {"corda": "corda-ipa", "pissa": "pissa", "eva": "eva"}


def loraspace(args, out):
    """Runs one loraspace command; returns (wall seconds, the job's own total, its manifest)."""
    t0 = time.perf_counter()
    subprocess.run([os.path.join(ROOT, "scripts", "loraspace")] + args + ["--set", "out=" + out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    return wall, manifest.get("timings", {}).get("total", float("nan")), manifest


def solvers(report_dir):
    """Counts of the per-module solver strings in an init output's report.json."""
    counts = {}
    for v in json.load(open(os.path.join(report_dir, "report.json")))["variants"]:
        for m in v["modules"]:
            counts[m["solver"]] = counts.get(m["solver"], 0) + 1
    return counts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--hidden", type=int, default=TINY_LLAMA_CONFIG["hidden_size"])
    p.add_argument("--layers", type=int, default=TINY_LLAMA_CONFIG["num_hidden_layers"])
    p.add_argument("--samples", type=int, default=24)
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--r", type=int, default=8)
    p.add_argument("--methods", default="corda", help="comma list of corda, pissa, eva")
    p.add_argument("--stats-option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of both statistics paths and of prepare (repeatable), e.g. max-task-memory=2g")
    add_allocator_option(p)
    a = p.parse_args()
    apply_allocator(a.allocator)
    methods = [m.strip() for m in a.methods.split(",")]
    from transformers import LlamaConfig, LlamaForCausalLM
    from peft import EvaConfig, LoraConfig, get_peft_model
    from peft.tuners.lora.config import CordaConfig
    from peft.tuners.lora.corda import preprocess_corda
    from peft.tuners.lora.eva import initialize_lora_eva_weights

    cfg = dict(TINY_LLAMA_CONFIG)
    cfg.update(hidden_size=a.hidden, num_hidden_layers=a.layers, intermediate_size=a.hidden * 3 // 2,
               num_attention_heads=max(1, a.hidden // 16), num_key_value_heads=max(1, a.hidden // 32))
    def fresh():
        # Built in memory from the seed, as the weights saved below: PEFT on a from_pretrained copy of the same
        # weights ran CorDA 9x slower here (256 s against 30 s at hidden 1024 x 4 layers; cause not found).
        torch.manual_seed(0)
        return LlamaForCausalLM(LlamaConfig(**cfg)).eval()

    base = os.path.join(a.dir, "base")
    fresh().save_pretrained(base, safe_serialization=True)
    ids = list(capture_hf.samples_of("random:1", a.samples, a.max_tokens, cfg["vocab_size"], None))
    tokens = os.path.join(a.dir, "tokens")
    capture_hf.write_token_corpus(tokens, [("plus", i, s) for i, s in enumerate(ids)])

    peft = {}
    for m in methods:
        model = fresh()
        if m == "corda":
            def run_model():
                with torch.no_grad():
                    for s in ids:
                        model(input_ids=torch.tensor([s]))
            t0 = time.perf_counter()
            lcfg = LoraConfig(r=a.r, lora_alpha=a.r, target_modules=MODULES, init_lora_weights="corda",
                              corda_config=CordaConfig(corda_method="ipm"))
            preprocess_corda(model, lcfg, run_model=run_model)
            get_peft_model(model, lcfg)
        elif m == "pissa":
            t0 = time.perf_counter()
            get_peft_model(model, LoraConfig(r=a.r, lora_alpha=a.r, target_modules=MODULES, init_lora_weights="pissa"))
        else:
            batch = capture_hf.padded_batch(ids)
            t0 = time.perf_counter()
            pm = get_peft_model(model, LoraConfig(r=a.r, lora_alpha=a.r, target_modules=MODULES,
                                                  init_lora_weights="eva", eva_config=EvaConfig(rho=1.0)))
            initialize_lora_eva_weights(pm, [batch], show_progress_bar=False)
        peft[m] = time.perf_counter() - t0

    py = sys.executable
    extra = [x for o in a.stats_option for x in ("--set", o)]
    model_mode = ["--set", "tokens=" + tokens, "--set", "model=" + base, "--set", "python=" + py,
                  "--set", "device=cpu"] + extra
    if methods == ["pissa"]:
        # PiSSA reads no statistics: init runs without a store, on the base model's target modules.
        print(f"# hidden={a.hidden} layers={a.layers} r={a.r}, torch threads={torch.get_num_threads()}, "
              f"allocator {a.allocator}, load average at the end of PEFT "
              f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
        common = ["--set", "base=" + base, "--set", "target-modules=" + ",".join(MODULES), "--set", f"r={a.r}",
                  "--set", f"lora-alpha={a.r}", "--set", "methods=" + METHOD_IDS["pissa"]]
        init = loraspace(["init"] + common, os.path.join(a.dir, "init-pissa"))
        print(f"pissa: PEFT {peft['pissa']:.2f} s; loraspace init {init[0]:.2f} s (job total {init[1]:.2f} s, solve "
              f"phase {init[2].get('timings', {}).get('solve')} s; solvers {solvers(os.path.join(a.dir, 'init-pissa'))}"
              f"); ratio loraspace / PEFT {init[0] / peft['pissa']:.2f}")
        return
    t0 = time.perf_counter()
    capture_hf.main(["--model", base, "--dataset", "plus=random:1", "--samples", str(a.samples), "--max-tokens",
                     str(a.max_tokens), "--out", os.path.join(a.dir, "corpus")])
    t_capture = time.perf_counter() - t0
    stats_parquet = loraspace(["stats", "--set", "input=" + os.path.join(a.dir, "corpus")] + extra,
                              os.path.join(a.dir, "stats-parquet"))
    stats_model = loraspace(["stats"] + model_mode, os.path.join(a.dir, "stats-model"))
    parquet_total = t_capture + stats_parquet[0]
    fast_model = stats_model[0] < parquet_total
    stats_wall = stats_model[0] if fast_model else parquet_total
    stats_dir = os.path.join(a.dir, "stats-model" if fast_model else "stats-parquet")
    stats_input = model_mode if fast_model else ["--set", "input=" + os.path.join(a.dir, "corpus")] + extra
    load = open("/proc/loadavg").read().split()[:3]
    print(f"# hidden={a.hidden} layers={a.layers} samples={a.samples} max-tokens={a.max_tokens} r={a.r}, "
          f"statistics options {a.stats_option or 'none'}, "
          f"torch threads={torch.get_num_threads()}, allocator {a.allocator}, "
          f"load average at the end of PEFT {' '.join(load)}")
    print(f"statistics: capture {t_capture:.2f} s + stats {stats_parquet[0]:.2f} s = {parquet_total:.2f} s "
          f"(activation Parquet); stats model mode {stats_model[0]:.2f} s -> "
          f"{'model mode' if fast_model else 'activation Parquet'} is faster here")
    for name, (wall, total, _) in (("stats (Parquet)", stats_parquet), ("stats (model mode)", stats_model)):
        print(f"  {name}: process {wall:.2f} s, job total {total:.2f} s, start-up and shutdown {wall - total:.2f} s")

    common = ["--set", "base=" + base, "--set", "target-modules=" + ",".join(MODULES), "--set", f"r={a.r}",
              "--set", f"lora-alpha={a.r}", "--set", "dataset-plus=plus"]
    for m in methods:
        method = ["--set", "methods=" + METHOD_IDS[m]]
        init = loraspace(["init", "--set", "stats=" + stats_dir] + common + method,
                         os.path.join(a.dir, "init-" + m))
        solve = init[2].get("timings", {}).get("solve")
        used = solvers(os.path.join(a.dir, "init-" + m))
        if m == "pissa":
            ours = init[0]
            print(f"{METHOD_IDS[m]}: PEFT {peft[m]:.2f} s; loraspace init {init[0]:.2f} s (job total {init[1]:.2f} s, "
                  f"solve phase {solve} s; solvers {used}); ratio loraspace / PEFT {ours / peft[m]:.2f}")
            continue
        prep = loraspace(["prepare"] + stats_input + common + method, os.path.join(a.dir, "prepare-" + m))
        two = stats_wall + init[0]
        capture = 0.0 if fast_model else t_capture
        one = capture + prep[0]
        print(f"{METHOD_IDS[m]}: PEFT {peft[m]:.2f} s; loraspace two JVMs {stats_wall:.2f} + init {init[0]:.2f} = "
              f"{two:.2f} s (init solve phase {solve} s; solvers {used}); one JVM: capture {capture:.2f} + prepare "
              f"{prep[0]:.2f} (job total {prep[1]:.2f}) = {one:.2f} s -> ratio loraspace / PEFT: two JVMs "
              f"{two / peft[m]:.2f}, one JVM {one / peft[m]:.2f}")
    print("load average at the end: " + " ".join(open("/proc/loadavg").read().split()[:3]))


if __name__ == "__main__":
    main()
