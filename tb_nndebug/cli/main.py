"""The ``tb-nndebug`` command: ``analyze`` a dataset (and model), ``report`` what a logdir
holds, or run the ``demo``.

Errors print one line on stderr and exit with status 2 (``--debug`` shows the
traceback instead); ``analyze --fail-on`` exits with 1 when the diagnosis
finds something at least that severe, like a linter.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

_DESCRIPTION = """\
A model debugger inside TensorBoard: is the network the right size for the
data, is the data balanced, how easily is the model fooled? Results go to a
TensorBoard logdir; open it with `tensorboard --logdir DIR` and click the
Debugger tab."""

_EPILOG = """\
examples:
  tb-nndebug analyze creditcard.csv --label Class --logdir runs
  tb-nndebug analyze digits.npz --model model.keras --logdir runs --robustness 20
  tb-nndebug analyze photos/ --model cnn.keras --test photos_test/ --logdir runs
  tb-nndebug report runs/exp1 --fail-on warning   # the Debugger tab's findings, in CI
  tb-nndebug demo --serve                 # the paper's experiments, then TensorBoard
  tb-nndebug demo --only table1 sizing    # just two groups

run `tb-nndebug COMMAND --help` for a command's options."""

_ANALYZE_DESCRIPTION = """\
Measure a dataset (and optionally a saved Keras model) without training,
write the results as a run <logdir>/<name>/debugger, and print the findings.

DATA is one of:
  file.npz   arrays x and y (also accepted: X, x_train, features, data,
             inputs, images / Y, y_train, labels, label, targets, target);
             x_test/y_test in the same file are used as the test data
  file.csv   one sample per row, numeric features; the label is the last
             column unless --label names another (header name or index)
  folder/    one sub-folder of images per class (PNG, JPEG, ...), read as
             greyscale or RGB and scaled to [0, 1]

At most --max-samples samples are kept (a seeded random subset beyond, see
--seed); data that would not fit in --memory-budget, judged from the files'
headers, is refused before it is decoded.

Measures: dataset complexity (expected and maximum bits), class balance,
cumulative spectral gradient (unless --no-csg); with --model: capacity and
capacity match, accuracy on DATA (and --test), robustness (--robustness N)."""

_ANALYZE_EPILOG = """\
examples:
  tb-nndebug analyze creditcard.csv --label Class --logdir runs
  tb-nndebug analyze digits.npz --model digits.keras --logdir runs --name digits-mlp
  tb-nndebug analyze mnist_png/ --model cnn.keras --robustness 20 --logdir runs
  tb-nndebug analyze data.npz --logdir runs --fail-on error   # for CI: exit 1 on errors

exit status: 0 ok; 1 findings at or above --fail-on; 2 bad input or failure."""

_REPORT_DESCRIPTION = """\
Print the findings of every debugger run under PATH (a logdir or one run
directory), read from the event files the way the Debugger tab reads them:
the same records, the same unreadable ones (record.unsupported), the same
findings. PATH may be a URL TensorFlow's file system knows (gs://, ram://)."""

_REPORT_EPILOG = """\
examples:
  tb-nndebug report runs                       # every run under runs/
  tb-nndebug report runs/exp1/debugger --json  # one run, machine-readable
  tb-nndebug report runs --fail-on warning     # for CI: exit 1 on warnings or errors

exit status: 0 ok; 1 findings at or above --fail-on; 2 bad input or failure."""

_DEMO_DESCRIPTION = """\
Reproduce the paper's experiments as TensorBoard runs under LOGDIR/<group>/:
  table1     complexity and CSG of eight datasets (the paper's Table 1)
  sizing     one task trained with an undersized, a matched and an oversized net
  imbalance  an imbalanced set as is, with SMOTE, Tomek links, capacity-guided
  sweep      robustness vs. capacity for an AlexNet-like and a ResNet-like CNN
  bugzoo     training bugs the checks detect, one run each, plus a clean run
Quick mode (the default) takes about ten minutes on two CPU cores. Re-running
a group replaces LOGDIR/<group>/; nothing else in LOGDIR is touched."""

_DEMO_EPILOG = """\
examples:
  tb-nndebug demo                        # quick demo into ./runs
  tb-nndebug demo --serve                # ... then TensorBoard on http://localhost:6006
  tb-nndebug demo --full --logdir paper  # the longer version
  tb-nndebug demo --only sizing bugzoo   # some groups only"""


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=30)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tb-nndebug`` (subcommands ``analyze``, ``demo``)."""
    from .. import __version__
    from ..demo.run import GROUPS

    parser = argparse.ArgumentParser(
        prog="tb-nndebug", description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback on errors (and, in report, of failed "
                             "diagnostics)")
    common.add_argument("--seed", type=int, default=0, metavar="N",
                        help="random_state for every random choice (default: 0)")
    common.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bars")
    gate = argparse.ArgumentParser(add_help=False)
    gate.add_argument("--fail-on", choices=("error", "warning", "never"), default="never",
                      help="exit 1 if a finding is at least this severe (default: never)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    a = sub.add_parser(
        "analyze", parents=[common, gate], formatter_class=_Formatter,
        help="measure a dataset (and model) and print the diagnosis",
        description=_ANALYZE_DESCRIPTION, epilog=_ANALYZE_EPILOG)
    a.add_argument("data", metavar="DATA", help=".npz file, .csv file or image folder")
    a.add_argument("--logdir", required=True, metavar="DIR",
                   help="TensorBoard logdir to write the run into")
    a.add_argument("--name", metavar="NAME",
                   help="run name (default: DATA's file name without extension)")
    a.add_argument("--model", metavar="MODEL.keras", help="a saved Keras model to assess")
    a.add_argument("--test", metavar="DATA",
                   help="held-out data (same formats) for the model's accuracy")
    a.add_argument("--label", metavar="COLUMN",
                   help="CSV label column, by name or index (default: the last column)")
    a.add_argument("--csg", action=argparse.BooleanOptionalAction, default=True,
                   help="compute the cumulative spectral gradient (default: yes)")
    a.add_argument("--robustness", type=int, default=0, metavar="N",
                   help="attack N samples to measure robustness (needs --model; default 0)")
    a.add_argument("--max-samples", type=int, default=20000, metavar="N",
                   help="keep at most N samples of DATA (and of --test): a seeded random "
                        "subset beyond (default: 20000)")
    a.add_argument("--memory-budget", default="2GB", metavar="SIZE",
                   help="memory the data and the measures may take, e.g. 512MB or 4GB; "
                        "larger data is refused before it is read (default: 2GB; "
                        "TensorFlow's own few hundred MB come on top)")

    r = sub.add_parser(
        "report", parents=[common, gate], formatter_class=_Formatter,
        help="print the findings of the debugger runs in a logdir",
        description=_REPORT_DESCRIPTION, epilog=_REPORT_EPILOG)
    r.add_argument("path", metavar="PATH", help="a logdir or one run directory")
    r.add_argument("--json", action="store_true",
                   help="print {\"runs\": [{\"run\", \"findings\", \"warnings\"}]} as JSON")

    d = sub.add_parser(
        "demo", parents=[common], formatter_class=_Formatter,
        help="run the paper's experiments into a logdir (what `make demo` calls)",
        description=_DEMO_DESCRIPTION, epilog=_DEMO_EPILOG)
    d.add_argument("--logdir", default="runs", metavar="DIR",
                   help="where the runs go (default: runs)")
    d.add_argument("--full", action="store_true",
                   help="the longer version (more data, levels and epochs)")
    d.add_argument("--smoke", action="store_true",
                   help="the smallest version, for tests (numbers are not meaningful)")
    d.add_argument("--only", nargs="+", choices=GROUPS, metavar="GROUP",
                   help=f"run only these groups ({', '.join(GROUPS)})")
    d.add_argument("--serve", action="store_true",
                   help="then start TensorBoard on the logdir (Ctrl-C stops it)")
    d.add_argument("--port", type=int, default=6006, help="TensorBoard port (default: 6006)")
    d.add_argument("--host", default="localhost",
                   help="TensorBoard host (default: localhost; 0.0.0.0 to share)")
    return parser


def _print_notes(notes):
    for note in notes:
        print(f"  note: {note}")


def _summary_lines(records) -> list[str]:
    """Key numbers of the records an analysis wrote, one line each."""
    from .._text import format_value as f

    lines = []
    for rec in records.get("dataset", [])[:1]:
        v = rec["value"]
        lines.append(f"data:        {v.get('n_samples')} samples, {v.get('dim')} values each, "
                     f"{v.get('n_classes')} classes")
        cx = v.get("complexity") or {}
        lines.append(f"complexity:  expected {f(cx.get('expected_bits'))} bits, "
                     f"max {f(cx.get('max_bits'))} bits")
        if v.get("csg"):
            lines.append(f"CSG:         {f(v['csg'].get('score'))}")
        bal = v.get("balance") or {}
        if bal:
            lines.append(f"balance:     imbalance ratio {f(bal.get('imbalance_ratio'))}, "
                         f"minority fraction {f(bal.get('minority_fraction'))}")
    for rec in records.get("model", [])[:1]:
        v = rec["value"]
        lines.append(f"model:       {f(v.get('bits'))} bits capacity, "
                     f"{f(v.get('n_params'))} parameters")
    for rec in records.get("run_info", [])[:1]:
        v = rec["value"]
        if v.get("accuracy") is not None:
            acc = f"accuracy:    {f(v['accuracy'])} on DATA"
            if v.get("test_accuracy") is not None:
                acc += f", {f(v['test_accuracy'])} on test data"
            lines.append(acc)
    for rec in records.get("robustness", [])[:1]:
        v = rec["value"]
        lines.append(f"robustness:  median eps {f(v.get('median_eps'))} "
                     f"({v.get('norm')}-norm, {v.get('n')} samples)")
    return lines


def _cmd_analyze(args) -> int:
    from .._text import format_findings
    from .analyze import analyze
    from .datafiles import load_data, parse_bytes

    if args.robustness and not args.model:
        raise CLIError("--robustness needs --model")
    if args.max_samples < 1:
        raise CLIError(f"--max-samples must be >= 1, got {args.max_samples}")
    budget = parse_bytes(args.memory_budget, name="--memory-budget")
    limits = {"label": args.label, "max_samples": args.max_samples, "memory_budget": budget,
              "random_state": args.seed, "csg": args.csg}
    # Read the inputs first: a bad file fails before TensorFlow loads.
    data = load_data(args.data, name="DATA", **limits)
    # DATA and --test share the budget
    limits["memory_budget"] = max(1, budget - data.x.nbytes - data.y.nbytes)
    test = load_data(args.test, name="--test", **limits) if args.test else None
    if args.model and not os.path.isfile(args.model):
        raise CLIError(f"--model: no such file: {args.model!r}")
    if not args.debug:
        _import_tensorflow_quietly()
    result = analyze(data, logdir=args.logdir, name=args.name, model=args.model,
                     test=test, label=args.label, csg=args.csg,
                     robustness=args.robustness, random_state=args.seed,
                     progress=args.progress)
    print(f"run written: {result.run_dir}")
    _print_notes(result.notes)
    print()
    for line in _summary_lines(result.records):
        print(line)
    print()
    print(format_findings(result.findings))
    print()
    print(f"open it: tensorboard --logdir {args.logdir}  (Debugger tab)")
    return _exit_status(result.findings, args.fail_on)


def _exit_status(findings, fail_on: str) -> int:
    """EXIT_FINDINGS when a finding is at least as severe as ``fail_on``."""
    if fail_on != "never":
        from ..diagnosis import SEVERITIES

        limit = SEVERITIES.index(fail_on)
        if any(SEVERITIES.index(f["severity"] if isinstance(f, dict) else f.severity) <= limit
               for f in findings):
            return EXIT_FINDINGS
    return EXIT_OK


def _run_name(run_dir: str, root: str) -> str:
    """The run's name as TensorBoard shows it for ``--logdir root`` (URLs included)."""
    run, top = run_dir.rstrip("/"), root.rstrip("/")
    if run == top:
        return run.rsplit("/", 1)[-1]
    return run[len(top):].lstrip("/") if run.startswith(top + "/") else run


def _cmd_report(args) -> int:
    import json
    import textwrap

    from .._text import format_findings
    from ..diagnosis import diagnose
    from ..diagnosis.rules.meta import DETAIL_KEY
    from ..records import reading

    if not args.debug:
        _import_tensorflow_quietly()
    import tensorflow as tf

    if not tf.io.gfile.isdir(args.path):
        raise CLIError(f"PATH: no such directory: {args.path!r}")
    runs = reading.find_runs(args.path)
    if not runs:
        raise CLIError(f"PATH: no debugger runs (nndebug records) under {args.path!r}")
    out, every = [], []
    for run_dir in runs:
        name = _run_name(run_dir, args.path)
        decoded = reading.RunReader(run_dir).read(run=name)
        findings = [f.to_dict() for f in diagnose(decoded.for_diagnosis())]
        if not args.debug:  # a failure's traceback (local paths) only when asked for
            for f in findings:
                f["evidence"].pop(DETAIL_KEY, None)
        every.extend(findings)
        out.append({"run": name, "findings": findings, "warnings": decoded.warnings})
    if args.json:
        print(json.dumps({"runs": out}, indent=1, allow_nan=False))
    else:
        for entry in out:
            print(f"run: {entry['run']}")
            print(format_findings(entry["findings"]))
            for f in entry["findings"]:
                if f["evidence"].get(DETAIL_KEY):
                    print(f"\ndetails of {f['id']}: {f['title']}")
                    print(textwrap.indent(f["evidence"][DETAIL_KEY], "    "))
            print()
    return _exit_status(every, args.fail_on)


def _check_port_free(host: str, port: int) -> None:
    import socket

    try:
        with socket.socket() as sock:
            sock.bind((host, port))
    except OSError as exc:
        raise CLIError(f"--port {port} on {host} is not available ({exc.strerror}); "
                       "choose another with --port") from None


def _cmd_demo(args) -> int:
    from ..demo.run import run

    if args.full and args.smoke:
        raise CLIError("choose one of --full and --smoke")
    if args.serve:  # find out now, not after ten minutes of demo
        _check_port_free(args.host, args.port)
    if not args.debug:
        _import_tensorflow_quietly()
    result = run(args.logdir, quick=not args.full, only=args.only, random_state=args.seed,
                 progress=args.progress, smoke=args.smoke, echo=True)
    print(f"\ndemo done in {result.seconds:.0f} s "
          f"({', '.join(f'{g.group} {g.seconds:.0f} s' for g in result.groups)}); "
          f"runs in {args.logdir}/")
    if args.serve:
        from ..demo.serve import serve

        return serve(args.logdir, port=args.port, host=args.host)
    print(f"see them: tensorboard --logdir {args.logdir}  (Debugger tab)")
    return EXIT_OK


@contextlib.contextmanager
def _native_stderr_silenced():
    """Silence file descriptor 2 (C++ logging) while TensorFlow is imported.

    TensorFlow's native code logs several lines at import time ("oneDNN custom
    operations are on", "Could not find cuda drivers") that no environment
    variable turns off; they would drown the one-line messages of this tool.
    Python-level errors are unaffected: they are raised, not printed.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _import_tensorflow_quietly():
    if "tensorflow" in sys.modules:
        return
    with _native_stderr_silenced():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # device probing logs too ("failed call to cuInit")
    # tf.function retracing warnings from many small models are noise in a console tool
    tf.get_logger().setLevel("ERROR")


def _one_line(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())
    return msg or type(exc).__name__


def main(argv=None) -> int:
    """Entry point of ``tb-nndebug``; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        commands = {"analyze": _cmd_analyze, "report": _cmd_report, "demo": _cmd_demo}
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("tb-nndebug: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CLIError, ValueError, TypeError, OSError) as exc:
        if args.debug:
            raise
        print(f"tb-nndebug {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # an unexpected failure still gets one line
        if args.debug:
            raise
        print(f"tb-nndebug {args.command}: error: {type(exc).__name__}: {_one_line(exc)} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
