"""The paper's measures (sections 3.1–3.2): pure numpy / scikit-learn."""
from .balance import ClassBalance, class_balance
from .complexity import DatasetComplexity, dataset_complexity

__all__ = ["ClassBalance", "class_balance", "DatasetComplexity", "dataset_complexity"]

# csg.py and capacity.py (+ capacity_match) are added by the measures work.
try:  # pragma: no cover - transitional while the modules land
    from .csg import CSGResult, csg  # noqa: F401
    __all__ += ["CSGResult", "csg"]
except ImportError:
    pass
try:  # pragma: no cover
    from .capacity import CapacityMatch, ModelCapacity, capacity_match, model_capacity  # noqa: F401
    __all__ += ["CapacityMatch", "ModelCapacity", "capacity_match", "model_capacity"]
except ImportError:
    pass
