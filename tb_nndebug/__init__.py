"""tb_nndebug: a model debugger for deep learning that lives inside TensorBoard.

Import as ``import tb_nndebug as nd``. The measures are pure numpy /
scikit-learn; the names that need TensorFlow (the callback, robustness, the
model warehouse, the summary writers) are imported on first use, so
``nd.dataset_complexity`` does not pay for importing TensorFlow.
"""
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    # measures (no TensorFlow)
    "dataset_complexity": "tb_nndebug.measures",
    "DatasetComplexity": "tb_nndebug.measures",
    "csg": "tb_nndebug.measures",
    "CSGResult": "tb_nndebug.measures",
    "scan_dataset": "tb_nndebug.measures",
    "DatasetScan": "tb_nndebug.measures",
    "array_batches": "tb_nndebug.measures",
    "class_balance": "tb_nndebug.measures",
    "ClassBalance": "tb_nndebug.measures",
    "model_capacity": "tb_nndebug.measures",
    "ModelCapacity": "tb_nndebug.measures",
    "capacity_match": "tb_nndebug.measures",
    "CapacityMatch": "tb_nndebug.measures",
    # resampling
    "resample": "tb_nndebug.resampling",
    "CapacityGuidedResampler": "tb_nndebug.resampling",
    # robustness
    "robustness": "tb_nndebug.adversarial",
    "RobustnessResult": "tb_nndebug.adversarial",
    "capacity_sweep": "tb_nndebug.sweep",
    # diagnosis
    "diagnose": "tb_nndebug.diagnosis",
    "Finding": "tb_nndebug.diagnosis",
    "THRESHOLDS": "tb_nndebug.diagnosis",
    # logging and reading back
    "DebuggerCallback": "tb_nndebug.callback",
    "read_records": "tb_nndebug.records.reading",
}
_SUBMODULES = {"summary", "models", "datasets", "diagnosis", "metadata", "measures", "records"}

__all__ = sorted(_EXPORTS) + sorted(_SUBMODULES)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = import_module(f"tb_nndebug.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'tb_nndebug' has no attribute {name!r}")


def __dir__():
    return __all__
