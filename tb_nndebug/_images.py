"""Images as PNG bytes and data URLs: shared by the records' pictures and the adversarial
examples (matplotlib's PNG writer, no drawing)."""
from __future__ import annotations

import base64
import io

import numpy as np


def png_bytes(image) -> bytes:
    """Encode an ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` image as PNG bytes.

    Float images are taken to be in [0, 1]; integer images in [0, 255].
    """
    import matplotlib.image as mpimg

    arr = check_image(image)
    buf = io.BytesIO()
    if arr.ndim == 2:
        mpimg.imsave(buf, arr, format="png", cmap="gray", vmin=0, vmax=255)
    else:
        mpimg.imsave(buf, arr, format="png")
    return buf.getvalue()


def data_url(image) -> str:
    """A ``data:image/png;base64,...`` URL of ``image`` (see :func:`png_bytes`)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def check_image(image) -> np.ndarray:
    """``image`` as a uint8 (H, W) / (H, W, 3|4) array; floats are taken to be in [0, 1]."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"image must have shape (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
    if arr.size == 0:
        raise ValueError("image is empty")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError("image contains NaN or infinite values")
        arr = np.clip(arr, 0.0, 1.0)
        arr = (arr * 255 + 0.5).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return arr
