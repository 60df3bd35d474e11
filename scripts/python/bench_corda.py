"""Benchmark (docs/benchmarks.md): the whole CorDA initialisation with HF PEFT against loraspace on the same model
and data, in one run.

    bench_corda.py DIR [--hidden H --layers L --samples N]

PEFT: preprocess_corda(run_model = forward passes over the samples, PEFT's own covariance hook) + get_peft_model.
loraspace: capture_hf.py (activations to Parquet) + `loraspace stats` + `loraspace init --set methods=corda-ipa`,
each timed as a separate process (JVM start-up included). The default is the tiny Llama of the interop tests.
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
from tiny_llama import TINY_LLAMA_CONFIG  # noqa: E402

MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--hidden", type=int, default=TINY_LLAMA_CONFIG["hidden_size"])
    p.add_argument("--layers", type=int, default=TINY_LLAMA_CONFIG["num_hidden_layers"])
    p.add_argument("--samples", type=int, default=24)
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--r", type=int, default=8)
    a = p.parse_args()
    from transformers import LlamaConfig, LlamaForCausalLM
    from peft import LoraConfig, get_peft_model
    from peft.tuners.lora.config import CordaConfig
    from peft.tuners.lora.corda import preprocess_corda

    cfg = dict(TINY_LLAMA_CONFIG)
    cfg.update(hidden_size=a.hidden, num_hidden_layers=a.layers, intermediate_size=a.hidden * 3 // 2,
               num_attention_heads=max(1, a.hidden // 16), num_key_value_heads=max(1, a.hidden // 32))
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**cfg)).eval()
    base = os.path.join(a.dir, "base")
    model.save_pretrained(base, safe_serialization=True)
    ids = list(capture_hf.samples_of("random:1", a.samples, a.max_tokens, cfg["vocab_size"], None))

    def run_model():
        with torch.no_grad():
            for s in ids:
                model(input_ids=torch.tensor([s]))

    t0 = time.perf_counter()
    lcfg = LoraConfig(r=a.r, lora_alpha=a.r, target_modules=MODULES, init_lora_weights="corda",
                      corda_config=CordaConfig(corda_method="ipm"))
    preprocess_corda(model, lcfg, run_model=run_model)
    get_peft_model(model, lcfg)
    t_peft = time.perf_counter() - t0

    env = dict(os.environ)
    times = {}
    t0 = time.perf_counter()
    capture_hf.main(["--model", base, "--dataset", "plus=random:1", "--samples", str(a.samples), "--max-tokens",
                     str(a.max_tokens), "--out", os.path.join(a.dir, "corpus")])
    times["capture"] = time.perf_counter() - t0
    for step, args in (("stats", ["stats", "--set", "input=" + os.path.join(a.dir, "corpus"),
                                  "--set", "out=" + os.path.join(a.dir, "stats")]),
                       ("init", ["init", "--set", "stats=" + os.path.join(a.dir, "stats"), "--set", "base=" + base,
                                 "--set", "out=" + os.path.join(a.dir, "init"), "--set", "methods=corda-ipa",
                                 "--set", "target-modules=" + ",".join(MODULES), "--set", f"r={a.r}",
                                 "--set", f"lora-alpha={a.r}", "--set", "dataset-plus=plus"])):
        t0 = time.perf_counter()
        subprocess.run([os.path.join(ROOT, "scripts", "loraspace")] + args, check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[step] = time.perf_counter() - t0
    manifest = json.load(open(os.path.join(a.dir, "init", "manifest.json")))
    solve = manifest.get("timings", {}).get("solve")
    total = sum(times.values())
    print(f"# CorDA IPA, hidden={a.hidden} layers={a.layers} samples={a.samples} r={a.r}, "
          f"threads={torch.get_num_threads()}")
    print(f"PEFT preprocess_corda + get_peft_model: {t_peft:.2f} s")
    print("loraspace: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
          + f" = {total:.2f} s (init job's own solve phase: {solve} s)")
    print(f"ratio loraspace / PEFT: {total / t_peft:.2f} (init alone {times['init'] / t_peft:.2f})")


if __name__ == "__main__":
    main()
