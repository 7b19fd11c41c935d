"""``facescan serve``: an HTTP service and a web page over the same pipeline as the CLI.

Install with ``pip install 'facescan[serve]'``. :func:`facescan.serve.app.create_app` builds the
FastAPI application from a :class:`Settings`; ``facescan serve`` runs it under uvicorn. This
package imports nothing heavy: FastAPI is imported by :mod:`.app` only.
"""

from __future__ import annotations

from .settings import Settings

__all__ = ["Settings"]
