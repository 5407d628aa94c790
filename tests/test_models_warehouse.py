"""The model warehouse builds each family at a target capacity, within tolerance."""
import keras
import numpy as np
import pytest

from tb_nndebug import models
from tb_nndebug.datasets import load_mnist_test
from tb_nndebug.measures import model_capacity

MNIST, CIFAR = (28, 28, 1), (32, 32, 3)
TARGETS = (1e3, 1e4, 1e5, 1e6, 1e7)

# What each family reaches under Friedland's rules within the default
# max_params (documented in tb_nndebug/models.py): (family, shape) -> targets.
REACHABLE = {
    ("mlp", MNIST): {1e4, 1e5, 1e6, 1e7},       # one unit on 784 inputs = 785 bits
    ("mlp", CIFAR): {1e4, 1e5, 1e6, 1e7},       # 3073 bits per unit
    ("alexnet_like", MNIST): {1e3, 1e4},
    ("alexnet_like", CIFAR): {1e3, 1e4, 1e5},
    ("resnet_like", MNIST): {1e3, 1e4, 1e5, 1e6},
    ("resnet_like", CIFAR): {1e3, 1e4, 1e5, 1e6},
}


@pytest.mark.parametrize("family,shape", sorted(REACHABLE))
def test_family_hits_targets_within_tolerance_or_says_it_cannot(family, shape):
    build = models.FAMILIES[family]
    for target in TARGETS:
        if target in REACHABLE[family, shape]:
            model = build(shape, 10, target_bits=target)
            info = model.warehouse
            assert abs(info.bits / target - 1) <= models.DEFAULT_TOLERANCE, (target, info)
            assert info.bits == model_capacity(model).bits  # attached number is the measure
            assert info.n_params == model.count_params()
            assert model.output_shape == (None, 10)
            assert not model.compiled
        else:
            with pytest.raises(ValueError, match=r"target_bits=.* out of reach .* reaches"):
                build(shape, 10, target_bits=target)


def test_tolerance_none_returns_the_closest_capacity():
    model = models.mlp(MNIST, 10, target_bits=1e3, tolerance=None)
    assert model.warehouse.widths == (1,)  # 786 bits beats 2 units' 1,572 bits
    assert model.warehouse.bits == model_capacity(model).bits < 1e3


def test_image_mlp_counts_like_the_flat_mlp():
    img = models.mlp(MNIST, 10, target_bits=5e4)
    flat = models.mlp((784,), 10, target_bits=5e4)
    assert img.warehouse.widths == flat.warehouse.widths
    assert img.warehouse.bits == flat.warehouse.bits
    assert img.count_params() == flat.count_params()


def test_same_random_state_gives_the_same_weights_and_the_model_runs():
    X, _ = load_mnist_test()
    x = (X[:8, :, :, None] / 255.0).astype("float32")
    a = models.resnet_like(MNIST, 10, target_bits=5e3, random_state=3)
    b = models.resnet_like(MNIST, 10, target_bits=5e3, random_state=3)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    p = a.predict(x, verbose=0)
    assert p.shape == (8, 10) and np.allclose(p.sum(1), 1, atol=1e-5)
    logits = models.alexnet_like(MNIST, 10, target_bits=5e3, output_activation=None,
                                 random_state=0)
    assert logits.layers[-1].activation is keras.activations.linear


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(target_bits=0), ValueError, "target_bits"),
    (dict(target_bits=float("nan")), ValueError, "target_bits"),
    (dict(target_bits="big"), TypeError, "target_bits"),
    (dict(target_bits=1e4, n_classes=1), ValueError, "n_classes"),
    (dict(target_bits=1e4, input_shape=(28, 28)), ValueError, "input_shape"),
    (dict(target_bits=1e4, input_shape=(4, 4, 1)), ValueError, "input_shape"),
    (dict(target_bits=1e4, tolerance=-1), ValueError, "tolerance"),
    (dict(target_bits=1e4, output_activation="relu"), ValueError, "output_activation"),
])
def test_bad_arguments_name_themselves(kwargs, exc, msg):
    args = dict(input_shape=MNIST, n_classes=10)
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        models.alexnet_like(args.pop("input_shape"), args.pop("n_classes"), **args)
