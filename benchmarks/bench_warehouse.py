"""The warehouse's depth search vs building every candidate at full depth.

Past the efficient width the CNN families add identical full-resolution
layers. ``extra_blocks=None`` (the default) solves the depth from two shallow
builds per width and builds the deep model once; the baseline fixes the same
depth (``extra_blocks=n``), so its width search builds and measures every
candidate at full depth. Both must return the same network. Prints both
times and their ratio, for ``resnet_like`` and ``alexnet_like`` at 10⁶ and
10⁷ bits on a 28×28×1 input.

Run: ``.venv/bin/python benchmarks/bench_warehouse.py``.
"""
from __future__ import annotations

import argparse
import time


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=float, nargs="+", default=[1e6, 1e7])
    args = parser.parse_args(argv)

    from tb_nndebug import models

    shape = (28, 28, 1)
    models.mlp(shape, 10, target_bits=1e4)  # warm up TensorFlow and Keras
    for family, key in (("resnet_like", "extra_blocks"), ("alexnet_like", "extra_layers")):
        build = models.FAMILIES[family]
        for target in args.targets:
            t_auto, auto = _timed(lambda build=build, target=target: build(
                shape, 10, target_bits=target, random_state=0))
            n = auto.warehouse.structure[key]
            t_fixed, fixed = _timed(lambda build=build, target=target, key=key, n=n: build(
                shape, 10, target_bits=target, random_state=0, **{key: n}))
            same = (auto.warehouse.widths == fixed.warehouse.widths
                    and auto.warehouse.bits == fixed.warehouse.bits)
            print(f"{family:13s} {target:8.0e} bits ({key}={n:3d}, {len(auto.layers):4d} layers): "
                  f"depth solved {t_auto:6.2f} s, every candidate built deep {t_fixed:6.2f} s "
                  f"= {t_fixed / t_auto:5.1f}x; same network: {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
