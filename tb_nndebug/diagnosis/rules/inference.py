"""Inference that is not deterministic: the Keras version of forgetting ``model.eval()``."""
from __future__ import annotations

from ..registry import Found, Threshold, rule
from ..view import num


@rule("training.dropout_at_inference", severities=("warning",), panel="checks", order=30,
      fires_when="two inference passes on the same batch differ",
      thresholds=[Threshold("max_diff", 1e-05,
                            "tb_nndebug: two eval-mode passes agree to float rounding",
                            "largest difference between two inference passes",
                            alias="inference.max_diff")])
def dropout_at_inference(R, T):
    c = R.checks()
    cdoc = c["value"] if c else {}
    if cdoc.get("inference_deterministic") is not False:
        return
    diff = num(cdoc.get("inference_max_diff"))
    if diff is None or diff > T["max_diff"]:
        # a warning, not an error: Monte-Carlo dropout is stochastic at inference on purpose
        yield Found(
            "warning", "Predictions change between two inference passes on the same batch",
            {"inference_max_diff": diff, "stochastic_layers": cdoc.get("stochastic_layers")},
            "A layer stays random with training=False (dropout or noise called with "
            "training=True, or a custom layer ignoring `training`): evaluation and "
            "predictions are noisy and worse than the model can do. Pass `training` "
            "through to Dropout/noise layers (the Keras version of forgetting model.eval()). "
            "Ignore this only for deliberate Monte-Carlo dropout.",
            c["step"])
