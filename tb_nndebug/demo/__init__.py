"""The paper's experiments, runnable: ``tb-nndebug demo`` or ``python -m tb_nndebug.demo.<name>``."""
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
