"""Real fits under the Keras backend of the environment (KERAS_BACKEND), findings as JSON.

The backend is fixed when Keras is imported, so the tests run this file in a
subprocess per backend (``run_scenario`` in ``backend_runner.py``):

    KERAS_BACKEND=jax python tests/backends/backend_scenarios.py clean lr50 zoo:vanishing_gradients

prints one line ``@@RESULT@@ {json}``: ``{"backend", scenario: result, ...}``.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

MARKER = "@@RESULT@@"


def summarise(cb, model) -> dict:
    """What the tests look at in one run: its record kinds, the last training record's
    gradient norms, the weighted layers of the model, and the findings."""
    import keras

    from tb_nndebug.records import keras_facts as ki

    training = [(r.get("value") or {}) for r in cb.records.get("training") or [{}]]
    checks = ((cb.records.get("checks") or [{}])[0]).get("value") or {}
    weighted = [path for path, _, w in ki.variable_groups(model) if w]
    return {
        "backend": keras.backend.backend(),
        "kinds": sorted(k for k, v in cb.records.items() if v),
        "weighted_layers": weighted,
        "grad_norms": training[0].get("grad_norms"),
        "dead_units": training[0].get("dead_units"),
        "weight_update_ratio": training[0].get("weight_update_ratio"),
        "initial_loss": checks.get("initial_loss"),
        "inference_deterministic": checks.get("inference_deterministic"),
        "findings": [{"id": f.id, "severity": f.severity, "evidence": _jsonable(f.evidence)}
                     for f in cb.findings],
    }


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def fit(model, train, val, *, epochs, batch_size=32):
    import keras

    from tb_nndebug import DebuggerCallback

    logdir = tempfile.mkdtemp()
    cb = DebuggerCallback(logdir, train_data=train, validation_data=val, verbose=0,
                          random_state=0)
    model.fit(*train, validation_data=val, epochs=epochs, batch_size=batch_size, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(logdir), cb])
    return summarise(cb, model)


def clean_mlp():
    """The bug zoo's clean recipe: digits, a 32-unit MLP, Adam."""
    import keras

    from tb_nndebug.demo import bugzoo

    keras.utils.set_random_seed(0)
    model, tr, va, kw = bugzoo.build_clean(0)
    return fit(model, tr, va, epochs=kw["epochs"])


def clean_cnn():
    """A small CNN on the 8x8 digits images (Conv2D, pooling, Dense)."""
    import keras

    from tb_nndebug.demo import bugzoo

    keras.utils.set_random_seed(0)
    (xtr, ytr), (xva, yva) = bugzoo.digits_split(0)
    xtr, xva = xtr.reshape(-1, 8, 8, 1), xva.reshape(-1, 8, 8, 1)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")], name="cnn")
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return fit(model, (xtr, ytr), (xva, yva), epochs=8)


def lr50():
    """The planted bug: the clean MLP with SGD at learning rate 50."""
    import keras

    from tb_nndebug.demo import bugzoo

    keras.utils.set_random_seed(0)
    tr, va = bugzoo.digits_split(0)
    model = bugzoo._compile(bugzoo._mlp(64, [32], 10), keras.optimizers.SGD(learning_rate=50.0))
    return fit(model, tr, va, epochs=4)


def unreached_head():
    """Two outputs, a loss on one: the other head's layer gets no gradient."""
    import keras

    from tb_nndebug.demo import bugzoo

    keras.utils.set_random_seed(0)
    (xtr, ytr), (xva, yva) = bugzoo.digits_split(0)
    inp = keras.Input((64,))
    h = keras.layers.Dense(16, activation="relu", name="hidden")(inp)
    a = keras.layers.Dense(10, activation="softmax", name="a")(h)
    b = keras.layers.Dense(1, name="b")(keras.ops.stop_gradient(h))
    model = keras.Model(inp, {"a": a, "b": b})
    model.compile("adam", loss={"a": "sparse_categorical_crossentropy", "b": None})
    train = (xtr, {"a": ytr, "b": ytr.astype("float32")})
    val = (xva, {"a": yva, "b": yva.astype("float32")})
    return fit(model, train, val, epochs=2)


def robustness():
    """The robustness measure on an MLP whose weights are the same on every backend (a
    seeded numpy draw), on 30 digits: per-sample minimal ε and pixel counts."""
    import keras
    import numpy as np

    from tb_nndebug.adversarial import robustness as measure
    from tb_nndebug.demo import bugzoo

    (X, y), _ = bugzoo.digits_split(0)
    model = bugzoo._mlp(64, [32], 10)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32")
                       for w in model.get_weights()])
    res = measure(model, X[:30], y[:30], bisection_steps=6, attack_steps=10, max_pixels=20)

    def plain(a):
        return [None if not np.isfinite(v) else float(v) for v in a]

    return {"min_eps": plain(res.min_eps), "pixels": plain(res.pixels),
            "status": list(res.status), "backend": keras.backend.backend()}


def summary_api():
    """The summary API (``tf.summary``'s conventions) under the backend: a model record and
    a training record of a short fit, read back with ``read_records``."""
    import keras
    import tensorflow as tf

    from tb_nndebug import summary
    from tb_nndebug.demo import bugzoo
    from tb_nndebug.records.reading import read_records

    keras.utils.set_random_seed(0)
    model, tr, _, _ = bugzoo.build_clean(0)
    history = model.fit(*tr, epochs=2, batch_size=64, verbose=0).history
    run_dir = tempfile.mkdtemp()
    with tf.summary.create_file_writer(run_dir).as_default():
        wrote = [summary.model("model", model, step=0),
                 summary.training("training", {"epoch": 1, "history": history}, step=1)]
    records = read_records(run_dir)
    model_doc = records["model"][0]["value"]
    return {"wrote": wrote, "kinds": sorted(records), "model_bits": model_doc["bits"],
            "n_params": model_doc["n_params"],
            "history": records["training"][0]["value"]["history"]}


def zoo(name):
    """One bug-zoo recipe, trained as ``python -m tb_nndebug.demo.bugzoo`` trains it."""
    from tb_nndebug.demo import bugzoo

    recipe = bugzoo.RECIPE_BY_NAME[name]
    cb, _ = bugzoo.train_recipe(recipe, tempfile.mkdtemp(), random_state=0)
    row = bugzoo.row_for(recipe, cb.findings)
    return dict(row, summary=summarise(cb, cb.model))


SCENARIOS = {"clean_mlp": clean_mlp, "clean_cnn": clean_cnn, "lr50": lr50,
             "unreached_head": unreached_head, "robustness": robustness,
             "summary_api": summary_api}


def main(argv):
    import keras

    out = {"backend": keras.backend.backend()}
    for arg in argv:
        if arg.startswith("zoo:"):
            out[arg] = zoo(arg[len("zoo:"):])
        else:
            out[arg] = SCENARIOS[arg]()
    print(MARKER, json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
