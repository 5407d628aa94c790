"""The Keras callback that feeds the Debugger tab: :class:`DebuggerCallback`."""
from .keras_callback import DebuggerCallback

__all__ = ["DebuggerCallback"]
