"""The capture hooks shared by capture_hf.py (activations to Parquet) and model_worker.py (statistics on the executors):
one definition of which modules are captured, how modules reading the same input form a site, and which gradients
are taken (dℓ/dy of each module's output for the sample's LM loss, HF's mean over the shifted tokens).
"""

import os
import re
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.join(os.path.dirname(HERE), "python"), HERE):
    if os.path.isdir(_p) and _p not in sys.path:
        sys.path.insert(0, _p)


def keep_freed_memory():
    """Makes glibc's malloc keep freed memory for reuse instead of handing it back to the kernel.

    The hooks hold every captured input until the next sample, so each forward pass frees a sample's worth of
    activations at once; glibc then trims the top of its heap (and unmaps blocks above its mmap threshold), and the
    next pass faults the same pages in again, zeroed by the kernel. On the 2-vCPU VM of docs/benchmarks.md that made a
    forward pass with the capture hooks take twice as long as without them (32 samples × 128 tokens, hidden 1024 × 4
    layers, one thread: 8.0 s against 3.9 s; with this call 3.8 s). Blocks up to 32 MiB (glibc's largest mmap
    threshold) come from the heap and the heap is trimmed only past 1 GiB free, so a worker's resident size stays at its
    peak (docs/operations.md, stats model mode, memory). Returns False where the C library is not glibc (nothing changed).
    """
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # glibc's own symbol: mallopt's parameter numbers below are glibc's
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    ok = mallopt(m_mmap_threshold, 32 << 20) == 1
    ok = mallopt(m_trim_threshold, 1 << 30) == 1 and ok
    return mallopt(m_top_pad, 64 << 20) == 1 and ok


class CaptureError(Exception):
    """A bad argument or input (the message is one line naming what was wrong)."""


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
        raise CaptureError(f"modules '{spec}' match no nn.Linear module of the model")
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
            if output.requires_grad:  # not under torch.no_grad() (a forward without gradients)
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


def load_model(spec, seed, dtype=torch.float32):
    """(model in eval mode, tokenizer function or None): "tiny-llama" (built from `seed`) or an HF checkpoint directory
    loaded in `dtype` whatever dtype it was saved in."""
    if spec == "tiny-llama":
        from tiny_llama import build_tiny_llama
        return build_tiny_llama(seed, dtype), None
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(spec, dtype=dtype)
    model.eval()
    try:
        tok = AutoTokenizer.from_pretrained(spec)
    except (OSError, ValueError):
        # A checkpoint without tokenizer files (random:SEED sources need none; text falls back to bytes).
        return model, None
    return model, (lambda text: tok(text)["input_ids"])


def forward(model, cap, ids, gradients):
    """Runs one sample (a list of token ids) through the model with the hooks of `cap` active; with `gradients`, the
    LM loss on the sample itself (labels = inputs) is back-propagated so `cap.grads` holds dℓ/dy per module."""
    cap.reset()
    input_ids = torch.tensor([ids], device=next(model.parameters()).device)
    if gradients:
        # Back-propagated to the input embeddings only: the hooks need dℓ/dy of module outputs, never a parameter's
        # gradient, so none is computed or kept (about a third of a backward's products and the parameters' size in
        # memory, which a full backward left allocated between samples).
        embeds = model.get_input_embeddings()(input_ids).detach().requires_grad_(True)
        out = model(inputs_embeds=embeds, labels=input_ids)
        torch.autograd.backward(out.loss, inputs=[embeds])
    else:
        with torch.no_grad():
            _without_head(model, cap)(input_ids=input_ids)


def _without_head(model, cap):
    """The module a forward without gradients runs: the causal LM's decoder (base_model) when every captured module is
    inside it, so no logits are computed that nothing reads (the LM head is ~half the forward of a small model with a
    32k vocabulary); the whole model otherwise (the LM head itself captured, or no separate decoder)."""
    base = getattr(model, "base_model", model)
    prefix = getattr(model, "base_model_prefix", "")
    if base is model or not prefix:
        return model
    if all(n.startswith(prefix + ".") for n in cap.names):
        return base
    return model
