"""The shared argument checks: each message names the argument, what was expected and what came."""
import numpy as np
import pytest

from tb_nndebug._validation import (
    Bool,
    Int,
    Options,
    Real,
    check_consistent_length,
    check_count_or_fraction,
    check_interval,
    check_labels,
    check_number,
    check_option,
    check_params,
    check_path,
    check_plain_name,
    check_shape,
)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: check_number(0, name="eps", low=0, inclusive="neither"), ValueError,
     r"eps must be a finite number > 0, got 0"),
    (lambda: check_number(float("nan"), name="t", low=1), ValueError, r"t must be .* got nan"),
    (lambda: check_number("x", name="t"), TypeError, r"t must be a number, got str 'x'"),
    (lambda: check_number(1.0, name="d", low=0, high=1, inclusive="left"), ValueError,
     r"d must be a finite number in \[0, 1\), got 1.0"),
    (lambda: check_option("x", name="score", options=("pixels", "eps")), ValueError,
     r"score must be one of 'pixels', 'eps', got 'x'"),
    (lambda: check_interval((1, 0), name="clip"), ValueError, r"clip must be finite"),
    (lambda: check_shape((28, 28), ndim=3, what="cnn"), ValueError,
     r"input_shape must be \(height, width, channels\) for cnn, got \(28, 28\)"),
    (lambda: check_plain_name("a/b", name="name"), ValueError, r"name must be a plain"),
    (lambda: check_count_or_fraction(1.5, name="m"), ValueError, r"m as a fraction"),
    (lambda: check_path("/no/such.keras", name="--model", kind="file"), ValueError,
     r"--model: no such file"),
    (lambda: check_consistent_length([1, 2], [1]), ValueError,
     r"X and y have different lengths: 2 != 1"),
    (lambda: check_labels([]), ValueError,
     r"y must hold at least one label, got an empty array"),
])
def test_messages_name_argument_expectation_and_value(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_check_params_checks_a_table_and_returns_the_checked_values():
    table = {"n": Int(minimum=0), "rate": Real(low=0, high=1), "flag": Bool(),
             "mode": Options("a", None)}
    out = check_params({"n": np.int64(3), "rate": 1, "flag": True, "mode": None, "free": []},
                       table)
    assert out == {"n": 3, "rate": 1.0, "flag": True, "mode": None, "free": []}
    assert type(out["n"]) is int and type(out["rate"]) is float
    with pytest.raises(TypeError, match="flag must be True or False, got str 'yes'"):
        check_params({"flag": "yes"}, table)
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        check_params({"n": -1}, table)
