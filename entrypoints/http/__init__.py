"""The HTTP adapter: the FastAPI application over the notes use cases."""

from entrypoints.http.app import create_app

__all__ = ["create_app"]
