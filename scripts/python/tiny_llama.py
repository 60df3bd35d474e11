"""A tiny, randomly initialised Llama built from a config (nothing downloaded), shared by the interop fixtures,
the capture hook's tests and the end-to-end checks. Deterministic for a given seed."""

import torch
from transformers import LlamaConfig, LlamaForCausalLM

# Small but with every structural feature our readers must handle: several layers, grouped-query attention
# (k/v outputs narrower than q), an MLP wider than the hidden size, untied embeddings.
TINY_LLAMA_CONFIG = dict(
    vocab_size=256,
    hidden_size=64,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=128,
    rms_norm_eps=1e-6,
    tie_word_embeddings=False,
)


def tiny_llama_config() -> LlamaConfig:
    return LlamaConfig(**TINY_LLAMA_CONFIG)


def build_tiny_llama(seed: int = 0, dtype: torch.dtype = torch.float32) -> LlamaForCausalLM:
    """Returns the tiny Llama in eval mode with weights drawn from `seed`."""
    torch.manual_seed(seed)
    model = LlamaForCausalLM(tiny_llama_config())
    model = model.to(dtype)
    model.eval()
    return model
