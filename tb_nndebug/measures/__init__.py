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
from .streaming import DatasetScan, array_batches, reservoir_rows
from .streaming import scan as scan_dataset

__all__ = [
    "ClassBalance", "class_balance",
    "DatasetComplexity", "dataset_complexity",
    "CSGResult", "csg",
    "DatasetScan", "scan_dataset", "array_batches", "reservoir_rows",
    "CapacityMatch", "GraphNode", "LayerCapacity", "ModelCapacity",
    "capacity_from_graph", "capacity_match", "model_capacity",
]
