"""Reproduce the paper's experiments as TensorBoard runs.

What it shows: the experiments of "Debugging and Visualization Tools of Deep
Learning - Challenges and Chances" (sections 3.1-3.4), in five groups:

* ``table1``    dataset complexity and CSG of eight datasets (the paper's Table 1);
* ``sizing``    one task trained with an undersized, a matched and an oversized network;
* ``imbalance`` the credit-card fraud sample as is, with SMOTE, Tomek links and
                capacity-guided resampling;
* ``sweep``     robustness against capacity for two small CNN families;
* ``bugzoo``    one run per training bug the checks detect, plus a clean run.

This is a thin wrapper: the experiments live in ``tb_nndebug.demo`` (the engine
behind ``tb-nndebug demo``); ``tb_nndebug.demo.run.run`` runs the chosen groups
and prints each group's table. Then the script reads every run back and prints
its most severe finding, as the Debugger tab sorts them.

    python demo/paper_experiments.py                  # quick mode, all five groups
    python demo/paper_experiments.py --only sizing    # one group
    tensorboard --logdir runs/paper_experiments       # open the Debugger tab

``--quick`` (the default) takes a few minutes on two CPU cores, ``--full``
about a quarter of an hour, ``--smoke`` seconds per group (for tests; its
numbers are not meaningful).
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

import tb_nndebug as nd  # noqa: E402
from tb_nndebug.demo.run import GROUPS, run  # noqa: E402
from tb_nndebug.records.reading import find_runs, read_records  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default=os.path.join("runs", "paper_experiments"),
                        help="where the runs go (default: runs/paper_experiments)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="the quick version (default)")
    size.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="the longer version: more seeds, data and epochs")
    size.add_argument("--smoke", dest="mode", action="store_const", const="smoke",
                      help="the smallest version, for tests")
    parser.set_defaults(mode="quick")
    parser.add_argument("--only", nargs="+", choices=GROUPS, metavar="GROUP",
                        help=f"run only these groups, among: {' '.join(GROUPS)}")
    parser.add_argument("--seed", type=int, default=0, help="random_state of every group")
    parser.add_argument("--serve", action="store_true",
                        help="then start TensorBoard on the logdir (Ctrl-C stops it)")
    args = parser.parse_args(argv)

    result = run(args.logdir, quick=args.mode != "full", smoke=args.mode == "smoke",
                 only=args.only, random_state=args.seed, progress=False, echo=True)
    print(f"\n{args.mode} demo done in {result.seconds:.0f} s: "
          + ", ".join(f"{g.group} {g.seconds:.0f} s" for g in result.groups))

    # every run the groups wrote, with the finding the Debugger tab would show first
    print("\nmost severe finding per run:")
    for run_dir in find_runs(args.logdir):
        findings = nd.diagnose(read_records(run_dir))
        top = findings[0].line() if findings else "no findings"
        print(f"  {os.path.relpath(run_dir, args.logdir)}: {top}")

    if args.serve:
        from tb_nndebug.demo.serve import serve

        return serve(args.logdir)
    print(f"\nopen them: tensorboard --logdir {args.logdir}  (Debugger tab)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
