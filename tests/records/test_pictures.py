"""Pictures: arrays in, RGBA uint8 images and real PNG files out."""
from __future__ import annotations

import base64
import io

import matplotlib.image as mpimg
import numpy as np
import pytest

from tb_nndebug.records import pictures

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_rgba(img):
    return (img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 4
            and min(img.shape[:2]) > 100)


def test_projection_draws_each_class_and_synthetic_points():
    rng = np.random.RandomState(0)
    pts = rng.normal(size=(200, 2))
    labels = np.repeat([0, 1], 100)
    plain = pictures.draw_projection(pts, labels, classes=["cat", "dog"])
    marked = pictures.draw_projection(pts, labels, classes=["cat", "dog"],
                                      synthetic=np.arange(200) % 2 == 0)
    assert _is_rgba(plain) and plain.shape == marked.shape
    assert not np.array_equal(plain, marked)
    # more than background and axes: the two class colours are there
    assert len(np.unique(plain.reshape(-1, 4), axis=0)) > 20


def test_capacity_chart_with_dataset_lines_and_unbounded_output_bits():
    img = pictures.draw_capacity(["conv", "pool", "dense"], [448, 0, 1290],
                                 output_bits=[None, float("inf"), 10],
                                 expected_bits=576, max_bits=17226, title="m")
    assert _is_rgba(img)
    with pytest.raises(ValueError, match="one value per layer"):
        pictures.draw_capacity(["a", "b"], [1])
    with pytest.raises(ValueError, match="finite and non-negative"):
        pictures.draw_capacity(["a"], [float("nan")])


def test_balance_chart_before_and_after():
    one = pictures.draw_balance({"0": 950, "1": 50})
    two = pictures.draw_balance({"0": 950, "1": 50}, after={"0": 950, "1": 950})
    assert _is_rgba(one) and _is_rgba(two) and not np.array_equal(one, two)
    with pytest.raises(TypeError, match="counts must be a mapping"):
        pictures.draw_balance([950, 50])


@pytest.mark.parametrize("image", [
    np.zeros((5, 7), np.uint8), np.ones((5, 7, 3), np.float32), np.full((5, 7, 4), 300),
    np.zeros((5, 7, 1), np.uint8)])
def test_png_round_trips_through_a_real_decoder(image):
    data = pictures.png_bytes(image)
    assert data.startswith(PNG_MAGIC)
    decoded = mpimg.imread(io.BytesIO(data), format="png")
    assert decoded.shape[:2] == (5, 7)
    url = pictures.data_url(image)
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == data


@pytest.mark.parametrize("image,match", [
    (np.zeros((5,)), "must have shape"), (np.zeros((5, 7, 2)), "must have shape"),
    (np.zeros((0, 7)), "empty"), (np.full((3, 3), np.nan), "NaN")])
def test_png_rejects_what_is_not_an_image(image, match):
    with pytest.raises(ValueError, match=match):
        pictures.png_bytes(image)
