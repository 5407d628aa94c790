"""The model warehouse builds each family at a target capacity, within tolerance."""
import keras
import numpy as np
import pytest

from tb_nndebug import models
from tb_nndebug.datasets import load_mnist_test
from tb_nndebug.measures import model_capacity

MNIST, CIFAR = (28, 28, 1), (32, 32, 3)
TARGETS = (1e3, 1e4, 1e5, 1e6, 1e7)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t:.0e}")
@pytest.mark.parametrize("shape", [MNIST, CIFAR], ids=["mnist", "cifar"])
@pytest.mark.parametrize("family", sorted(models.FAMILIES))
def test_every_family_reaches_every_target_from_1e3_to_1e7_bits(family, shape, target):
    model = models.FAMILIES[family](shape, 10, target_bits=target)
    info = model.warehouse
    assert abs(info.bits / target - 1) <= models.DEFAULT_TOLERANCE, info
    assert info.bits == model_capacity(model).bits  # the attached number is the measure
    assert info.n_params == model.count_params() <= models.DEFAULT_MAX_PARAMS
    assert model.output_shape == (None, 10)
    assert not model.compiled


@pytest.mark.parametrize("shape,pool", [(MNIST, 2), (CIFAR, 3)])
def test_mlp_pools_the_image_only_when_whole_units_on_it_cannot_meet_the_target(shape, pool):
    small = models.mlp(shape, 10, target_bits=1e3)
    assert small.warehouse.structure == {"input_pool": pool}  # the least pooling that works
    assert small.get_layer("input_pool").pool_size == (pool, pool)
    assert models.mlp(shape, 10, target_bits=1e5).warehouse.structure == {"input_pool": 1}


@pytest.mark.parametrize("family,key", [("alexnet_like", "extra_layers"),
                                        ("resnet_like", "extra_blocks")])
def test_cnns_add_depth_only_past_the_efficient_width(family, key):
    build = models.FAMILIES[family]
    assert build(CIFAR, 10, target_bits=1e4).warehouse.structure == {key: 0}
    deep = build(CIFAR, 10, target_bits=1e7).warehouse
    assert deep.structure[key] > 10
    assert deep.widths[0] == pytest.approx(32 * 32 / 9, rel=0.02)  # c = ceil(H*W/9) = 114
    # fewer parameters than bits-per-parameter 1/2: depth at the efficient width is cheap
    assert deep.n_params < 2 * deep.bits


def test_fixed_structure_scales_width_only_and_says_its_range():
    wide = models.alexnet_like(CIFAR, 10, target_bits=1e5, extra_layers=0)
    assert wide.warehouse.structure == {"extra_layers": 0}
    assert abs(wide.warehouse.ratio - 1) <= models.DEFAULT_TOLERANCE
    with pytest.raises(ValueError, match=r"target_bits=100000 is out of reach .* "
                                         r"reaches \d+ to \d+ bits .*extra_layers=0"):
        models.alexnet_like(MNIST, 10, target_bits=1e5, extra_layers=0)
    fixed = models.resnet_like(MNIST, 10, target_bits=2e5, extra_blocks=2)
    assert fixed.warehouse.structure == {"extra_blocks": 2}
    assert any(layer.name.startswith("s1b") for layer in fixed.layers)
    assert fixed.get_layer("s1b3_add") is not None  # 1 + 2 blocks in the first stage


def test_targets_beyond_max_params_raise_with_the_reachable_range():
    with pytest.raises(ValueError, match=r"target_bits=1e\+09 is out of reach for "
                                         r"resnet_like .* reaches \d+ to \d+ bits"):
        models.resnet_like(MNIST, 10, target_bits=1e9)
    with pytest.raises(ValueError, match="max_params=1000"):
        models.resnet_like(MNIST, 10, target_bits=1e6, max_params=1000)


def test_tolerance_none_returns_the_closest_capacity():
    model = models.mlp((784,), 10, target_bits=1e3, tolerance=None)  # flat: nothing to pool
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


def test_deepened_alexnet_starts_as_its_shallow_self_and_learns():
    """Each extra residual layer starts as the identity, so depth does not stall training."""
    X, y = load_mnist_test()
    x, y = (X[:256, :, :, None] / 255.0).astype("float32"), y[:256]
    deep = models.alexnet_like(MNIST, 10, target_bits=3e5, random_state=0)
    n = deep.warehouse.structure["extra_layers"]
    assert n >= 3
    probe = keras.Model(deep.input, [deep.get_layer("conv1").output,
                                     deep.get_layer(f"conv1_{n}_out").output])
    before, after = probe.predict(x[:8], verbose=0)
    np.testing.assert_allclose(after, before, rtol=1e-6)
    keras.utils.set_random_seed(0)
    deep.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    history = deep.fit(x, y, epochs=3, batch_size=32, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] > 0.5


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(target_bits=0), ValueError, "target_bits"),
    (dict(target_bits=float("nan")), ValueError, "target_bits"),
    (dict(target_bits="big"), TypeError, "target_bits"),
    (dict(target_bits=1e4, n_classes=1), ValueError, "n_classes"),
    (dict(target_bits=1e4, input_shape=(28, 28)), ValueError, "input_shape"),
    (dict(target_bits=1e4, input_shape=(4, 4, 1)), ValueError, "input_shape"),
    (dict(target_bits=1e4, tolerance=-1), ValueError, "tolerance"),
    (dict(target_bits=1e4, output_activation="relu"), ValueError, "output_activation"),
    (dict(target_bits=1e4, extra_layers=-1), ValueError, "extra_layers"),
    (dict(target_bits=1e4, extra_layers=1.5), TypeError, "extra_layers"),
])
def test_bad_arguments_name_themselves(kwargs, exc, msg):
    args = dict(input_shape=MNIST, n_classes=10)
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        models.alexnet_like(args.pop("input_shape"), args.pop("n_classes"), **args)


@pytest.mark.parametrize("build,kwargs,msg", [
    (models.mlp, dict(input_shape=(784,), input_pool=2), "input_pool needs an image"),
    (models.mlp, dict(input_shape=MNIST, input_pool=0), "input_pool"),
    (models.mlp, dict(input_shape=MNIST, input_pool=29), "input_pool must be at most"),
    (models.resnet_like, dict(input_shape=MNIST, extra_blocks=-2), "extra_blocks"),
])
def test_bad_structure_arguments_name_themselves(build, kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        build(kwargs.pop("input_shape"), 10, target_bits=1e4, **kwargs)


def test_warehouse_table_gives_one_row_per_family_input_and_target():
    from tb_nndebug.demo import warehouse

    rows = warehouse.run(targets=(2e3,), shapes={"MNIST": MNIST})
    assert [r["family"] for r in rows] == list(models.FAMILIES)
    assert all(abs(r["ratio"] - 1) <= models.DEFAULT_TOLERANCE for r in rows)
    assert all(r["params"] > 0 and r["structure"] for r in rows)
