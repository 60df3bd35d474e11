"""HF PEFT's CorDA statistics as a user would run them: one Python process that imports torch, transformers and peft,
loads an HF checkpoint and runs CorDA's covariance hooks (peft.tuners.lora.corda.calib_cov_distribution) over a token
corpus in loraspace's token-corpus Parquet (samples one at a time, as PEFT's CorDA hook requires).

    peft_corda_stats.py MODEL_DIR TOKENS_DIR [--allocator keep|default]

Prints one line with the seconds spent on imports + loading and on the statistics. bench_model_stats.py times this
whole process against `loraspace stats` model mode (both pay their start-up).
"""

import argparse
import os
import sys
import time

T0 = time.perf_counter()
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "capture"))

MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def add_allocator_option(parser):
    """The benchmarks' --allocator option (bench_corda.py, bench_model_stats.py and this script)."""
    parser.add_argument("--allocator", choices=["keep", "default"], default="keep",
                        help="keep (default): this process's malloc keeps freed memory "
                             "(capture_hooks.keep_freed_memory, as loraspace's model workers and capture_hf.py do), "
                             "so PEFT runs under the same allocator setting; default: glibc's own (PEFT as a script "
                             "without it runs)")


def apply_allocator(choice):
    if choice == "keep":
        from capture_hooks import keep_freed_memory
        keep_freed_memory()


def corda_statistics(model, ids):
    """PEFT's CorDA statistics step over `ids` (lists of token ids), one sample per forward as its hook requires."""
    import torch
    from peft import LoraConfig
    from peft.tuners.lora.config import CordaConfig
    from peft.tuners.lora.corda import calib_cov_distribution

    cfg = LoraConfig(r=8, lora_alpha=8, target_modules=MODULES, init_lora_weights="corda",
                     corda_config=CordaConfig(corda_method="ipm"))

    def run_model():
        with torch.no_grad():
            for s in ids:
                model(input_ids=torch.tensor([s]))

    calib_cov_distribution(model, cfg, run_model, None, None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("tokens")
    add_allocator_option(p)
    a = p.parse_args()
    apply_allocator(a.allocator)
    import pyarrow.parquet as pq
    import peft  # noqa: F401  (imported before the clock stops, as a user's script would)
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(a.model).eval()
    ids = pq.read_table(a.tokens, columns=["input_ids"]).column("input_ids").to_pylist()
    t1 = time.perf_counter()
    corda_statistics(model, ids)
    t2 = time.perf_counter()
    print(f"peft_corda_stats: {len(ids)} samples; imports + load {t1 - T0:.2f} s, statistics {t2 - t1:.2f} s")


if __name__ == "__main__":
    main()
