"""The bug zoo: each planted bug is named as the most severe finding of a
real Keras training run; the clean run gets no error or warning."""
from __future__ import annotations

import pytest

from tb_nndebug.demo import bugzoo

pytestmark = [pytest.mark.training,
              # the planted softmax + from_logits=True bug makes Keras warn, as it should
              pytest.mark.filterwarnings("ignore:.*from_logits=True.*:UserWarning")]

_TABLE: list[dict] = []


@pytest.mark.parametrize("recipe", bugzoo.RECIPES, ids=[r.name for r in bugzoo.RECIPES])
def test_bug_is_the_most_severe_finding(tmp_path, recipe):
    cb, history = bugzoo.train_recipe(recipe, str(tmp_path / recipe.name), random_state=0)
    row = bugzoo.row_for(recipe, cb.findings)
    _TABLE.append(row)
    print("\n" + bugzoo.format_table([row]))
    (training,) = cb.records["training"]  # one tag, its history one entry per epoch
    assert len(history.history["loss"]) == len(training["history"])
    serious = [f for f in cb.findings if f.severity in ("error", "warning")]
    if recipe.expected is None:
        assert serious == [], [f.line() for f in serious]
    else:
        assert serious, f"{recipe.name}: no error or warning at all"
        assert serious[0].id == recipe.expected, [f.line() for f in serious]
        assert cb.findings[0] is serious[0]
    assert row["detected"]


def test_detection_table_covers_every_recipe():
    """Prints the detection table (run with -s to see it)."""
    if len(_TABLE) < len(bugzoo.RECIPES):
        pytest.skip("run together with the parametrized bug-zoo tests")
    print("\n" + bugzoo.format_table(_TABLE))
    assert {r["bug"] for r in _TABLE} == {r.name for r in bugzoo.RECIPES}
    assert all(r["detected"] for r in _TABLE)
