"""loraspace model worker: runs an HF model where a Spark task runs and returns only statistics.

Started by the stats job's model mode (io.loraspace.jobs.stats.model.ModelWorker), one long-lived process per
executor and device, talking over stdin/stdout in frames:

    u32 header length | header (UTF-8 JSON) | u64 payload length | payload

Requests (header "op"): "describe" (load the model, one dry forward: sites, modules, dims, vocabulary), "configure"
(which sites/modules this pass accumulates, gradients on/off), "sample" (payload: int32 little-endian token ids of one
sample; forward, and backward with gradients), "flush" (return and reset the accumulated statistics). Every reply has
"ok"; a failure has "kind" (format: bad input data; argument: bad option; environment: Python side) and a one-line
"message".

Statistics are accumulated in float64 on the model's device, with the same hooks as capture_hf.py (capture_hooks.py):
per (dataset, site) the token Gram Σ x xᵀ, Σ x and the token count, per sample x̂ = Σ x and its token count; per
(dataset, module) Σ g xᵀ, Σ g∘g and the token count, g = dℓ/dy of the sample's LM loss. "flush" returns them as the
records of the statistics shuffle: accumulators in the LSAC byte format (common/.../stats/AccumulatorFormat.java),
sample partials as i64 tokens + f64[d]. No activation leaves the process.
"""

import json
import os
import signal
import struct
import sys
import time
import traceback

# The cores Spark gave the task (spark.task.cpus) also bound numpy's BLAS, which the CPU path's Gram products use; its
# thread count is read when numpy loads.
if os.environ.get("LORASPACE_WORKER_THREADS"):
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["LORASPACE_WORKER_THREADS"]

try:
    import numpy as np
    import torch
    import transformers  # noqa: F401  (checked here so a missing package is one clear message)
except ImportError as _e:  # pragma: no cover - exercised by the job's tests with a bare interpreter
    _MISSING = _e
else:
    _MISSING = None

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MAGIC = 0x4341534C
VERSION = 1
KIND_TOKEN, KIND_CROSS, KIND_DIAG = 1, 3, 4


def read_frame(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None, None
    (n,) = struct.unpack("<I", head)
    header = json.loads(stream.read(n).decode("utf-8"))
    (m,) = struct.unpack("<Q", stream.read(8))
    payload = stream.read(m) if m else b""
    return header, payload


def write_frame(stream, header, payload=b""):
    h = json.dumps(header).encode("utf-8")
    stream.write(struct.pack("<I", len(h)) + h + struct.pack("<Q", len(payload)))
    if payload:
        stream.write(payload)
    stream.flush()


class Fail(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def lsac(kind, rows, cols, scalars, arrays):
    """One accumulator in the LSAC format: header, i64/f64 scalars, f64 arrays (all little-endian)."""
    out = [struct.pack("<IHHii", MAGIC, VERSION, kind, rows, cols)]
    for s in scalars:
        out.append(struct.pack("<q", s) if isinstance(s, int) else struct.pack("<d", s))
    for a in arrays:
        out.append(np.ascontiguousarray(a, dtype="<f8").tobytes())
    return b"".join(out)


def upper_packed(gram):
    """Upper triangle packed column by column (LAPACK "U"): (i, j), i <= j, at i + j(j+1)/2."""
    d = gram.shape[0]
    out = np.empty(d * (d + 1) // 2, dtype=np.float64)
    by_column = gram.T  # row j of Gᵀ is column j of G: its first j + 1 entries are column j's upper part
    at = 0
    for j in range(d):
        out[at:at + j + 1] = by_column[j, :j + 1]
        at += j + 1
    return out


def finite(t):
    return bool(torch.isfinite(t).all())


class Acc:
    """Σ leftᵀ right over rows in float64 (right = left for a token Gram), with a float64 vector sum and a token count.

    Rows are gathered and added in one product once they number min(BUFFER_ROWS, the accumulator's smaller side): one
    (rows × d)ᵀ(rows × d) product runs about 3× faster per row than one per sample of 128 tokens (float64, CPU), and
    the buffer never holds more than the accumulator it feeds (worker memory at most doubles). Blocks are kept in the
    model's float32 and converted once, into the product's input. On the CPU numpy's OpenBLAS takes the products:
    torch's CPU BLAS (MKL) ran them at a third of its speed on AMD EPYC (2048 × 1024 rows: 148 against 48 ms, one
    thread), and numpy runs xᵀx faster than a general product (48 against 61 ms here). On a GPU torch does, on the
    device.
    """

    BUFFER_ROWS = 2048

    def __init__(self, rows, cols, device):
        self.device = device
        self.total = None  # rows × cols: numpy on the CPU, a torch tensor on a GPU; None before the first product
        self.shape = (rows, cols)
        self.vec = torch.zeros(rows, dtype=torch.float64, device=device)
        self.count = 0
        self.limit = min(self.BUFFER_ROWS, rows, cols)
        self.left, self.right, self.pending = [], [], 0

    def add(self, left, right, vec, tokens):
        self.vec += vec
        self.count += tokens
        self.left.append(left)
        if right is not None:
            self.right.append(right)
        self.pending += left.shape[0]
        if self.pending >= self.limit:
            self.drain()

    def drain(self):
        if not self.pending:
            return
        if self.device.type == "cpu":
            a = rows64(self.left, self.pending)
            product = a.T @ (a if not self.right else rows64(self.right, self.pending))
        else:
            a = torch.cat(self.left).to(torch.float64)
            product = a.T @ (a if not self.right else torch.cat(self.right).to(torch.float64))
        if self.total is None:
            self.total = product
        else:
            self.total += product
        self.left, self.right, self.pending = [], [], 0

    def result(self):
        """The float64 sum as a numpy array (zeros when every row was skipped)."""
        self.drain()
        if self.total is None:
            return np.zeros(self.shape)
        return self.total if isinstance(self.total, np.ndarray) else self.total.cpu().numpy()


def rows64(blocks, n):
    """CPU tensors (float32 or float64) stacked into one C-ordered float64 numpy array: one copy, converting."""
    out = np.empty((n, blocks[0].shape[1]), dtype=np.float64)
    np.concatenate([b.numpy() for b in blocks], axis=0, out=out)
    return out


class Worker:
    def __init__(self):
        self.model = None
        self.model_key = None
        self.cap = None
        self.layout = None
        self.vocab = None
        self.reset_pass({"sites": [], "grad_modules": [], "gradients": False, "non_finite": "fail"})

    # -- model and layout ------------------------------------------------------------------------------------
    def load(self, req):
        from capture_hooks import Capture, CaptureError, forward, load_model, select_modules
        key = (req["model"], req.get("dtype", "float32"), req.get("device", "cpu"), req["modules"])
        if self.model_key == key:
            return
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float64": torch.float64}[req.get("dtype",
                                                                                                        "float32")]
        path = req["model"]
        if not os.path.isdir(path) or not os.path.exists(os.path.join(path, "config.json")):
            raise Fail("argument", f"Model directory '{path}' has no config.json (an HF checkpoint directory is "
                                   "expected: config.json plus model.safetensors or its shards)")
        try:
            model, _ = load_model(path, 0, dtype)
        except Exception as e:  # noqa: BLE001 - transformers raises many kinds
            raise Fail("argument", f"Model directory '{path}' could not be loaded: "
                                   f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        model.to(req.get("device", "cpu"))
        try:
            names = select_modules(model, req["modules"])
        except CaptureError as e:
            raise Fail("argument", f"Option 'model-modules': {e}")
        cap = Capture(model, names, True)
        forward(model, cap, [0, 0], True)  # dry run: which modules share an input tensor, and their dims
        modules = dict(model.named_modules())
        sites = []
        module_info = []
        for site, mods in cap.sites():
            sites.append({"site": site, "modules": mods, "dim": int(cap.inputs[mods[0]].shape[1])})
            for m in mods:
                module_info.append({"module": m, "site": site, "out": int(modules[m].out_features),
                                    "in": int(modules[m].in_features)})
        self.model, self.model_key, self.cap = model, key, cap
        self.vocab = int(model.config.vocab_size)
        self.layout = {"sites": sites, "modules": module_info, "vocab": self.vocab,
                       "modelType": getattr(model.config, "model_type", ""), "device": req.get("device", "cpu"),
                       "torch": torch.__version__, "transformers": transformers.__version__}
        self.site_modules = {s["site"]: s["modules"] for s in sites}
        self.module_site = {m["module"]: m["site"] for m in module_info}

    # -- accumulation ---------------------------------------------------------------------------------------
    def reset_pass(self, req):
        self.sites = set(req["sites"])
        self.grad_modules = set(req["grad_modules"])
        self.gradients = bool(req["gradients"]) and bool(self.grad_modules)
        self.non_finite = req.get("non_finite", "fail")
        if self.layout is not None:
            unknown = sorted((self.sites - set(self.site_modules)) | (self.grad_modules - set(self.module_site)))
            if unknown:
                raise Fail("argument", f"unknown site or module {unknown[0]!r} (the model has sites "
                                       f"{sorted(self.site_modules)[:4]}...)")
            # A module's gradient statistics need its site's input even when the site is in another pass.
            self.needed_sites = sorted(self.sites | {self.module_site[m] for m in self.grad_modules})
        else:
            self.needed_sites = []
        self.reset_acc()

    def reset_acc(self):
        self.token = {}      # (dataset, site) -> Acc of the token Gram Σ x xᵀ, with Σ x
        self.samples = []    # (dataset, site, sample, tokens, xhat)
        self.cross = {}      # (dataset, module) -> Acc of Σ g xᵀ, with Σ g∘g
        self.grad_samples = []
        self.rows = 0
        self.skipped = 0
        self.seconds = {"forward": 0.0, "statistics": 0.0}

    def sample(self, req, payload):
        from capture_hooks import forward
        ds, sample = req["dataset"], int(req["sample"])
        ids = np.frombuffer(payload, dtype="<i4")
        if len(ids) < 1:
            raise Fail("format", f"{req['where']}: sample {sample} of dataset '{ds}' has no tokens")
        bad = np.nonzero((ids < 0) | (ids >= self.vocab))[0]
        if len(bad):
            raise Fail("format", f"{req['where']}: sample {sample} of dataset '{ds}': token id {int(ids[bad[0]])} at "
                                 f"position {int(bad[0])} is outside the model's vocabulary (size {self.vocab})")
        t0 = time.perf_counter()
        forward(self.model, self.cap, ids.tolist(), self.gradients)
        t1 = time.perf_counter()
        self.seconds["forward"] += t1 - t0
        try:
            self.accumulate(req, ds, sample)
        finally:
            self.seconds["statistics"] += time.perf_counter() - t1

    def accumulate(self, req, ds, sample):
        self.rows += 1
        dev = next(self.model.parameters()).device
        for site in self.needed_sites:
            mods = self.site_modules[site]
            x = self.cap.inputs[mods[0]]
            if x.dtype not in (torch.float32, torch.float64):
                x = x.float()  # bfloat16/float16 to float32 is exact; products are taken in float64 below
            grads = {}
            if self.gradients:
                grads = {m: self.cap.grads[m].to(torch.float64) for m in mods if m in self.grad_modules}
            xhat = x.sum(0, dtype=torch.float64)
            gsq = {m: (g * g).sum(0) for m, g in grads.items()}
            # A non-finite value anywhere makes its column's sum non-finite, so finite sums clear the whole sample
            # without a pass over every element; only then are rows checked one by one.
            if not (finite(xhat) and all(finite(v) for v in gsq.values())):
                keep = self.finite_rows(x, ds, sample, f"input of site '{site}'", req["where"])
                for m, g in grads.items():
                    keep = keep & self.finite_rows(g, ds, sample, f"gradient of '{m}'", req["where"])
                if not bool(keep.all()):
                    self.skipped += int((~keep).sum())
                    x = x[keep]
                    grads = {m: g[keep] for m, g in grads.items()}
                    xhat = x.sum(0, dtype=torch.float64)
                    gsq = {m: (g * g).sum(0) for m, g in grads.items()}
            t = x.shape[0]
            if site in self.sites:
                acc = self.token.get((ds, site))
                if acc is None:
                    acc = self.token[(ds, site)] = Acc(x.shape[1], x.shape[1], dev)
                acc.add(x, None, xhat, t)
                self.samples.append((ds, site, sample, t, xhat))
            for m, g in grads.items():
                c = self.cross.get((ds, m))
                if c is None:
                    c = self.cross[(ds, m)] = Acc(g.shape[1], x.shape[1], dev)
                c.add(g, x, gsq[m], t)
                self.grad_samples.append((ds, m, sample))

    def finite_rows(self, t, ds, sample, what, where):
        ok = torch.isfinite(t).all(dim=1)
        if self.non_finite == "fail" and not bool(ok.all()):
            row = int((~ok).nonzero()[0])
            raise Fail("format", f"{where}: non-finite value in {what} at token {row} of sample {sample} of dataset "
                                 f"'{ds}' (model output; set non-finite=skip to drop such tokens)")
        return ok

    def flush(self):
        t0 = time.perf_counter()
        records, chunks = [], []

        def add(kind, ds, name, data, sample=None):
            r = {"kind": kind, "dataset": ds, "name": name, "bytes": len(data)}
            if sample is not None:
                r["sample"] = str(sample)
            records.append(r)
            chunks.append(data)

        for (ds, site), acc in sorted(self.token.items()):
            g = acc.result()
            add("T", ds, site, lsac(KIND_TOKEN, g.shape[0], g.shape[0], [int(acc.count)],
                                    [acc.vec.cpu().numpy(), upper_packed(g)]))
        for ds, site, sample, t, xhat in self.samples:
            add("S", ds, site, struct.pack("<q", int(t)) + np.ascontiguousarray(xhat.cpu().numpy(), "<f8").tobytes(),
                sample)
        for (ds, m), acc in sorted(self.cross.items()):
            c = acc.result()
            add("X", ds, m, lsac(KIND_CROSS, c.shape[0], c.shape[1], [int(acc.count), 0], [c.T.reshape(-1)]))
            add("D", ds, m, lsac(KIND_DIAG, c.shape[0], 1, [int(acc.count)], [acc.vec.cpu().numpy()]))
        for ds, m, sample in self.grad_samples:
            add("G", ds, m, b"", sample)
        seconds = dict(self.seconds, flush=time.perf_counter() - t0)
        header = {"ok": True, "records": records, "rows": self.rows, "skipped": self.skipped,
                  "seconds": {k: round(v, 3) for k, v in seconds.items()}}
        self.reset_acc()
        return header, b"".join(chunks)


def widen_pipe(stream, size=1 << 20):
    """Asks Linux for a 1 MiB pipe buffer on `stream` (a flush is tens of MiB; with the default 64 KiB every piece is a
    switch between this process and the JVM's reader: 93 MB between two Python processes took 0.59 s through a
    64 KiB pipe, 0.05 s through a 1 MiB one). Anything else (not Linux, not a pipe, over the system's
    /proc/sys/fs/pipe-max-size) leaves the pipe as it is."""
    try:
        import fcntl
        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError, ValueError):
        pass


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    widen_pipe(stdout)
    # Anything printed by libraries goes to stderr, never into the frame stream.
    sys.stdout = sys.stderr
    if _MISSING is not None:
        write_frame(stdout, {"ok": False, "kind": "environment",
                             "message": f"Python package '{_MISSING.name}' is missing in {sys.executable} "
                                        f"(the model worker needs torch, transformers, numpy, safetensors)"})
        return 3
    torch.use_deterministic_algorithms(True, warn_only=True)
    from capture_hooks import keep_freed_memory
    keep_freed_memory()
    # The cores Spark gave the task (spark.task.cpus): workers of concurrent tasks must not oversubscribe the executor.
    threads = os.environ.get("LORASPACE_WORKER_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    write_frame(stdout, {"ok": True, "worker": "loraspace-model-worker", "version": VERSION,
                         "python": sys.version.split()[0], "torch": torch.__version__,
                         "transformers": transformers.__version__})
    w = Worker()
    # Fault injection for the tests only: the first worker to reach its third sample kills itself (SIGKILL).
    die_once = os.environ.get("LORASPACE_WORKER_TEST_DIE_ONCE")
    served = 0
    while True:
        req, payload = read_frame(stdin)
        if req is None:
            # The JVM closed the pipe: nothing is pending (every reply was flushed). Skip the interpreter's teardown of
            # torch, transformers and the model (about a second), which the JVM's exit would otherwise wait for.
            sys.stderr.flush()
            os._exit(0)
        try:
            op = req["op"]
            if op == "describe" or op == "configure":
                w.load(req)
                if op == "configure":
                    w.reset_pass(req)
                write_frame(stdout, {"ok": True, "layout": w.layout})
            elif op == "sample":
                served += 1
                if die_once and served == 3 and not os.path.exists(die_once):
                    open(die_once, "w").close()
                    os.kill(os.getpid(), signal.SIGKILL)
                w.sample(req, payload)
                write_frame(stdout, {"ok": True})
            elif op == "flush":
                header, data = w.flush()
                write_frame(stdout, header, data)
            else:
                raise Fail("environment", f"unknown request '{op}'")
        except Fail as f:
            write_frame(stdout, {"ok": False, "kind": f.kind, "message": str(f)})
        except Exception as e:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            write_frame(stdout, {"ok": False, "kind": "environment",
                                 "message": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"})


if __name__ == "__main__":
    sys.exit(main())
