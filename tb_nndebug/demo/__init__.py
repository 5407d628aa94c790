"""The paper's experiments, runnable: ``tb-nndebug demo`` or
``python -m tb_nndebug.demo.<name>``."""
import argparse


def demo_parser(module: str, description: str, *, full_help: str, logdir_default="runs",
                logdir_help: str = "where to write the runs") -> argparse.ArgumentParser:
    """The command line every demo module shares: ``--logdir``, ``--full``, ``--seed``."""
    parser = argparse.ArgumentParser(prog=f"python -m tb_nndebug.demo.{module}",
                                     description=description)
    parser.add_argument("--logdir", default=logdir_default, help=logdir_help)
    parser.add_argument("--full", action="store_true", help=full_help)
    parser.add_argument("--seed", type=int, default=0, help="random_state")
    return parser


def run_demo(parser: argparse.ArgumentParser, run, argv=None, *, footer=None,
             table=None) -> list:
    """Parse ``argv`` with ``parser``, call ``run(logdir, quick=not --full, random_state=--seed)``,
    print its rows with ``table`` (default :func:`tb_nndebug._text.format_table`) and
    ``footer(args, seconds)`` (default: the seconds taken); return the rows."""
    import time

    from .._text import format_table

    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = run(args.logdir, quick=not args.full, random_state=args.seed)
    print((table or format_table)(rows))
    seconds = time.perf_counter() - t0
    print(footer(args, seconds) if footer else f"{seconds:.0f} s")
    return rows


def join(root, *parts) -> str:
    """``root/part/...`` through TensorFlow's file system layer, so a ``gs://`` or
    ``ram://`` log directory stays a URL (``pathlib`` would fold ``//`` into ``/``)."""
    import os

    import tensorflow as tf

    return tf.io.gfile.join(os.fspath(root), *parts)
