"""Fixtures for the stats job's model mode: tiny random HF checkpoints written as directories, and for each the
capture path's output on the same tokens (activation Parquet from capture_hf.py plus the token corpus it used).

    python scripts/python/model_mode_fixture.py OUT_DIR [SAMPLES [NAME,...]]

OUT_DIR/<name>/model        the checkpoint (config.json + model.safetensors), names:
                            llama-f32 (the tiny Llama, float32), llama-bf16 (the same weights saved in bfloat16),
                            qwen2-f32 (a tiny Qwen2: q/k/v projections with biases, tied embeddings),
                            llama-nan (llama-f32 with NaN in the embedding of the last token of sample 1 of dataset
                            plus: every sample holding that id has non-finite inputs from its first occurrence on)
OUT_DIR/<name>/activations  capture_hf.py --gradients on two datasets of random token ids
OUT_DIR/<name>/tokens       the token corpus of exactly those samples (for `stats --set tokens=...`)

The capture runs torch on one thread, as the model workers of a one-core task do: float32 forwards agree bit for bit
only at the same thread count (torch's reductions are blocked by thread), and the tests compare to 1e-12.
"""

import os
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tiny_llama import build_tiny_llama  # noqa: E402


def tiny_qwen2(seed):
    from transformers import Qwen2Config, Qwen2ForCausalLM
    torch.manual_seed(seed)
    cfg = Qwen2Config(vocab_size=200, hidden_size=48, intermediate_size=80, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      tie_word_embeddings=True, rms_norm_eps=1e-6)
    m = Qwen2ForCausalLM(cfg)
    with torch.no_grad():  # non-zero biases, so that they matter
        for layer in m.model.layers:
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                proj.bias.normal_(0, 0.1)
    return m.eval()


def llama_nan(samples):
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "capture"))
    from capture_hf import samples_of
    m = build_tiny_llama(7)
    ids = list(samples_of("random:11", int(samples), 24, m.config.vocab_size, None))
    with torch.no_grad():
        m.model.embed_tokens.weight[ids[1][-1]] = float("nan")
    return m


def main():
    out = sys.argv[1]
    samples = sys.argv[2] if len(sys.argv) > 2 else "4"
    models = {
        "llama-f32": lambda: build_tiny_llama(7),
        "llama-bf16": lambda: build_tiny_llama(7).to(torch.bfloat16),
        "qwen2-f32": lambda: tiny_qwen2(8),
        "llama-nan": lambda: llama_nan(samples),
    }
    only = sys.argv[3].split(",") if len(sys.argv) > 3 else list(models)
    for name, build in models.items():
        if name not in only:
            continue
        d = os.path.join(out, name)
        build().save_pretrained(os.path.join(d, "model"))
        subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "capture", "capture_hf.py"),
                        "--model", os.path.join(d, "model"), "--dataset", "plus=random:11", "--dataset",
                        "minus=random:12", "--samples", samples, "--max-tokens", "24", "--block-tokens", "7",
                        "--gradients", "--rows-per-file", "60", "--out", os.path.join(d, "activations"),
                        "--write-tokens", os.path.join(d, "tokens")], check=True,
                       env=dict(os.environ, OMP_NUM_THREADS="1"))
    print("model_mode_fixture: ok")


if __name__ == "__main__":
    main()
