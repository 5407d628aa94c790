"""Run the demo: the paper's experiments as TensorBoard runs, group by group.

``tb-nndebug demo`` (and ``make demo``) call :func:`run`; each group is a
module of this package with the demo-module contract
``run(logdir, *, quick=True, random_state=0, progress=True) -> list[dict]``
writing its runs under ``<logdir>/<group>/``. ``python -m tb_nndebug.demo.run``
runs it without the CLI.
"""
from __future__ import annotations

import inspect
import os
import time
from dataclasses import dataclass
from importlib import import_module

from .._validation import check_int
from . import demo_parser, join

#: Demo groups in the order they run, and the module of each.
GROUPS = ("table1", "sizing", "imbalance", "sweep", "bugzoo")
MODULES = {
    "table1": "tb_nndebug.demo.table1",
    "sizing": "tb_nndebug.demo.sizing",
    "imbalance": "tb_nndebug.demo.imbalance",
    "sweep": "tb_nndebug.demo.robustness_sweep",
    "bugzoo": "tb_nndebug.demo.bugzoo",
}
TITLES = {
    "table1": "Table 1: dataset complexity and CSG",
    "sizing": "Sizing: undersized, matched and oversized networks on one task",
    "imbalance": "Imbalance: as is, SMOTE, Tomek links, capacity-guided resampling",
    "sweep": "Robustness vs. capacity",
    "bugzoo": "Bug zoo: one run per training bug, plus a clean run",
}


#: Row keys not worth a console column (the paths are under the logdir anyway).
HIDDEN = {"run_dir"}

#: --smoke for groups whose run() has no ``smoke`` flag: a subset through the
#: selection parameter their run() does have (applied only if it exists).
SMOKE_SUBSETS = {
    "table1": {"datasets": ("xor", "spiral", "digits")},
    "bugzoo": {"bugs": ("clean", "lr_too_high")},
}


@dataclass(frozen=True)
class GroupResult:
    """One group's table rows and how long it took."""

    group: str
    rows: tuple
    seconds: float


@dataclass(frozen=True)
class DemoResult:
    """The groups run, in order, and the total time."""

    logdir: str
    groups: tuple
    seconds: float


def check_groups(only) -> tuple:
    """``only`` (None, a name or names) → the groups to run, in demo order."""
    if only is None:
        return GROUPS
    names = [only] if isinstance(only, str) else list(only)
    unknown = [n for n in names if n not in GROUPS]
    if unknown or not names:
        raise ValueError(f"only must name groups among {GROUPS}, got {only!r}")
    return tuple(g for g in GROUPS if g in names)


def _module(group):
    try:
        return import_module(MODULES[group])
    except ModuleNotFoundError as exc:
        if exc.name == MODULES[group]:
            raise ValueError(f"demo group {group!r} is not installed "
                             f"(module {MODULES[group]} is missing)") from None
        raise


def run_group(group, logdir, *, quick=True, random_state=0, progress=True,
              smoke=False) -> GroupResult:
    """Run one demo group into ``logdir``: its runs go under ``logdir/<group>/``,
    replacing what a previous run of the group left there."""
    module = _module(group)
    kwargs = {"quick": quick, "random_state": random_state, "progress": progress}
    # --smoke extends the module contract: modules that know it shrink further,
    # some run a subset, the others run their quick mode.
    if smoke:
        params = inspect.signature(module.run).parameters
        if "smoke" in params:
            kwargs["smoke"] = True
        for key, value in SMOKE_SUBSETS.get(group, {}).items():
            if key in params:
                kwargs[key] = value
    import tensorflow as tf

    group_dir = join(logdir, group)
    if tf.io.gfile.isdir(group_dir):
        # a re-run replaces the group's runs; appending would mix two runs' curves
        tf.io.gfile.rmtree(group_dir)
    start = time.perf_counter()
    rows = module.run(str(logdir), **kwargs)
    return GroupResult(group=group, rows=tuple(rows or ()),
                       seconds=time.perf_counter() - start)


def run(logdir, quick=True, only=None, random_state=0, progress=True, *,
        smoke=False, echo=False) -> DemoResult:
    """Run the demo groups in order, writing TensorBoard runs into ``logdir``.

    Parameters
    ----------
    logdir : str or path-like
        Created if missing; group ``g`` writes under ``logdir/g/`` (a previous
        ``logdir/g/`` is removed first; nothing else in ``logdir`` is touched).
    quick : bool, default=True
        The quick version (about ten minutes on two CPU cores); False runs
        the longer one.
    only : str or sequence of str, optional
        Groups to run (among :data:`GROUPS`); always run in demo order.
    random_state : int, default=0
        Seeds every group.
    progress : bool, default=True
        Progress bars on stderr.
    smoke : bool, default=False
        The smallest version, for tests (groups that support it).
    echo : bool, default=False
        Print each group's table as it finishes.

    Returns
    -------
    DemoResult
    """
    from tqdm.auto import tqdm

    from .._text import format_table

    groups = check_groups(only)
    check_int(random_state, name="random_state", minimum=None)
    import tensorflow as tf

    logdir = os.fspath(logdir)
    tf.io.gfile.makedirs(logdir)
    start = time.perf_counter()
    results = []
    bar = tqdm(groups, desc="demo", unit="group", disable=not progress)
    for group in bar:
        bar.set_postfix_str(group)
        res = run_group(group, logdir, quick=quick, random_state=random_state,
                        progress=progress, smoke=smoke)
        results.append(res)
        if echo:
            tqdm.write(f"\n== {group}: {TITLES[group]} ({res.seconds:.0f} s)")
            tqdm.write(format_table([{k: v for k, v in row.items() if k not in HIDDEN}
                                     for row in res.rows]))
    bar.close()
    return DemoResult(logdir=str(logdir), groups=tuple(results),
                      seconds=time.perf_counter() - start)


def main(argv=None):
    """``python -m tb_nndebug.demo.run [--logdir runs] [--full] [--only ...] [--seed N]``."""
    parser = demo_parser("run", __doc__.splitlines()[0], full_help="the longer version")
    parser.add_argument("--only", nargs="+", choices=GROUPS)
    args = parser.parse_args(argv)
    result = run(args.logdir, quick=not args.full, only=args.only,
                 random_state=args.seed, echo=True)
    print(f"\ndemo done in {result.seconds:.0f} s")


if __name__ == "__main__":
    main()
