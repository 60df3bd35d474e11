"""Writes the golden activation blocks for ActivationBlockDecoderTest with numpy/torch (the reference encoders).

For each dtype in F32, F16, BF16: a 4 x 7 row-major block <dtype>.bin (little-endian, as in the data contract) and
<dtype>.expected.f64 with the same values widened to float64 by numpy/torch. Values mix Gaussians at several scales
with edge cases (signed zero, subnormals, the largest finite value, values that round). Run once; the files are
committed and never silently regenerated:
    .venv/bin/python scripts/python/make_decoder_golden.py common/src/test/resources/io/loraspace/common/io/decoder
"""
import sys
from pathlib import Path

import numpy as np
import torch

ROWS, DIM = 4, 7


def source_values(edge):
    rng = np.random.default_rng(20261122)
    v = (rng.standard_normal(ROWS * DIM) * np.repeat([1e-3, 1.0, 30.0, 1e3], DIM)).astype(np.float64)
    v[: len(edge)] = edge
    return v


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    blocks = {
        "F32": source_values([0.0, -0.0, 1.0e-45, 3.4028234663852886e38, 0.1, -2.5]).astype("<f4"),
        "F16": source_values([0.0, -0.0, 5.960464477539063e-08, 65504.0, 0.1, -2.5, 1.0 / 3.0]).astype("<f2"),
    }
    bf = torch.tensor(source_values([0.0, -0.0, 9.183549615799121e-41, 3.3895313892515355e38, 0.1, -2.5, 1.0 / 3.0]),
                      dtype=torch.float64).to(torch.bfloat16)
    for name, arr in blocks.items():
        (out / f"{name}.bin").write_bytes(arr.tobytes())
        (out / f"{name}.expected.f64").write_bytes(arr.astype("<f8").tobytes())
    (out / "BF16.bin").write_bytes(bf.view(torch.int16).numpy().astype("<i2").tobytes())
    (out / "BF16.expected.f64").write_bytes(bf.to(torch.float64).numpy().astype("<f8").tobytes())


if __name__ == "__main__":
    main(sys.argv[1])
