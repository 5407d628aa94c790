"""The precision corpus (``tb_nndebug.demo.precision``): correct Keras 3 programs get
no error or warning, no ``diagnostic.failed`` and per-layer signals for every layer
with trainable variables; each bugged twin still gets its planted finding; and the
callback does not change training (identical losses with and without it)."""
from __future__ import annotations

import pytest

from tb_nndebug.demo import precision

pytestmark = [pytest.mark.training,
              # the twins' softmax + from_logits=True makes Keras warn, as it should
              pytest.mark.filterwarnings("ignore:.*from_logits=True.*:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*shuffle=True.*:UserWarning")]

CASES = precision.CASES
TWINS = [c for c in CASES if c.twin is not None]

#: correct runs kept for the losses-unchanged tests and the table
_RUNS: dict = {}
_ROWS: dict = {}


def _lines(findings):
    return [f.line() for f in findings]


def _correct_run(case, tmp_path_factory):
    if case.name not in _RUNS:
        logdir = tmp_path_factory.mktemp(case.name)
        _RUNS[case.name] = precision.run_case(case, str(logdir), random_state=0)
    return _RUNS[case.name]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_correct_model_gets_no_false_alarm(case, tmp_path_factory):
    cb, history = _correct_run(case, tmp_path_factory)
    unmonitored = precision.unmonitored_layers(cb.model, cb.records)
    row = precision.score(case, cb.findings, None,
                          unmonitored=precision.unexplained(unmonitored, cb.records),
                          history=history)
    _ROWS[case.name] = row
    print("\n" + precision.format_table([row]))
    assert precision.serious(cb.findings) == [], _lines(cb.findings)
    failed = [f for f in cb.findings if f.id == "diagnostic.failed"]
    assert failed == [], _lines(failed)
    # a layer may go unmonitored only where the callback says why (once, as info): a
    # subclassed model without call() has no forward pass to differentiate
    silent = precision.unexplained(unmonitored, cb.records)
    assert silent == [], f"layers without per-layer signals and no reason given: {silent}"
    if unmonitored:
        assert any(f.id == "diagnostic.skipped" and f.severity == "info" for f in cb.findings)
    assert history.history["loss"], "the model did not train"


@pytest.mark.parametrize("case", TWINS, ids=[c.name for c in TWINS])
def test_bugged_twin_gets_its_planted_finding(case, tmp_path):
    cb, _ = precision.run_case(case, str(tmp_path / "twin"), bugged=True, random_state=0)
    found = {f.id for f in precision.serious(cb.findings)}
    missing = [i for i in case.planted if i not in found]
    assert not missing, f"{case.twin}: {missing} not found; got {_lines(cb.findings)}"


@pytest.mark.parametrize("name", ["cifar_residual_tfdata", "mnist_cnn_bn"])
def test_the_callback_does_not_change_the_losses(name, tmp_path, tmp_path_factory):
    """Shuffled tf.data and in-memory arrays: the same seed gives exactly the same
    per-epoch losses with the callback as without it."""
    case = precision.CASE_BY_NAME[name]
    _, with_cb = _correct_run(case, tmp_path_factory)
    none, without = precision.run_case(case, str(tmp_path / "plain"), random_state=0,
                                       debugger=False)
    assert none is None
    assert with_cb.history["loss"] == without.history["loss"]


def test_mixed_precision_policy_is_restored(tmp_path_factory):
    import keras

    _correct_run(precision.CASE_BY_NAME["mnist_mixed_precision"], tmp_path_factory)
    assert keras.mixed_precision.global_policy().name == "float32"


def test_corpus_covers_the_issue_patterns():
    """At least 14 correct models, and every pattern of the issue is in some case."""
    assert len(CASES) >= 14
    covered = " ".join(p for c in CASES for p in c.patterns).lower()
    for pattern in ("conv-bn-relu", "rescaling", "normalization", "augmentation", "residual",
                    "separableconv2d", "depthwiseconv2d", "textvectorization", "stringlookup",
                    "embedding", "lstm", "gru", "multiheadattention", "conv1d",
                    "batchnormalization", "dict", "two heads", "regression", "autoencoder",
                    "vae", "custom train_step", "custom training loop", "tf.data",
                    "pydataset", "generator", "mixed_float16", "string inputs",
                    "integer token ids"):
        assert pattern in covered, pattern


def test_precision_table():
    """Prints the correct runs' table (run with -s to see it)."""
    if len(_ROWS) < len(CASES):
        pytest.skip("run together with the parametrized corpus tests")
    rows = [_ROWS[c.name] for c in CASES]
    print("\n" + precision.format_table(rows))
    assert sum(len(r["false_alarms"]) for r in rows) == 0
