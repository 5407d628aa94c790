"""The TensorBoard plugin: :class:`DebuggerPlugin` (routes), the route JSON
(:mod:`.views`) and the built frontend (``static/``)."""
from .routes import DebuggerPlugin

__all__ = ["DebuggerPlugin"]
