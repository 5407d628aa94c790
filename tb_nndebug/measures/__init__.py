"""The paper's measures (sections 3.1–3.2): pure numpy / scikit-learn.

``model_capacity`` imports Keras only when it is given a Keras model.
"""
from .balance import ClassBalance, class_balance
from .capacity import (
    CapacityMatch,
    GraphNode,
    LayerCapacity,
    ModelCapacity,
    capacity_from_graph,
    capacity_match,
    model_capacity,
)
from .complexity import DatasetComplexity, dataset_complexity
from .csg import CSGResult, csg

__all__ = [
    "ClassBalance", "class_balance",
    "DatasetComplexity", "dataset_complexity",
    "CSGResult", "csg",
    "CapacityMatch", "GraphNode", "LayerCapacity", "ModelCapacity",
    "capacity_from_graph", "capacity_match", "model_capacity",
]
