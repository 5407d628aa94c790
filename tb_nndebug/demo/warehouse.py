"""The model warehouse's reach: every family at 10³ to 10⁷ bits on MNIST- and CIFAR-shaped inputs.

Builds each model (uncompiled, nothing trained) and prints the capacity it
reached, its parameter count and the structure the search chose — the
README's warehouse table. About 20 s on 2 cores.
"""
from __future__ import annotations

import argparse
import time

SHAPES = {"MNIST": (28, 28, 1), "CIFAR-10": (32, 32, 3)}
TARGETS = (1e3, 1e4, 1e5, 1e6, 1e7)


def run(targets=TARGETS, shapes=SHAPES, *, n_classes=10, random_state=0):
    """One row per (family, input, target).

    Returns
    -------
    list of dict
        Keys ``family``, ``input``, ``target_bits``, ``bits``, ``ratio``,
        ``params``, ``structure``, ``widths``, ``layers``, ``seconds``.
    """
    from .. import models

    rows = []
    for family, build in models.FAMILIES.items():
        for shape_name, shape in shapes.items():
            for target in targets:
                t0 = time.perf_counter()
                model = build(shape, n_classes, target_bits=target, random_state=random_state)
                info = model.warehouse
                rows.append({"family": family, "input": shape_name, "target_bits": target,
                             "bits": info.bits, "ratio": round(info.ratio, 3),
                             "params": info.n_params, "structure": info.structure,
                             "widths": info.widths, "layers": len(model.layers),
                             "seconds": round(time.perf_counter() - t0, 1)})
    return rows


def main(argv=None) -> int:
    """``python -m tb_nndebug.demo.warehouse [--seed N]``."""
    from .._text import format_table

    parser = argparse.ArgumentParser(prog="python -m tb_nndebug.demo.warehouse",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="random_state")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    print(format_table(run(random_state=args.seed)))
    print(f"{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
