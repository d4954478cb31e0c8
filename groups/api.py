"""Own the JSON API under /api/v1 and its OpenAPI document."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

api = Api()


def register_api(app: Flask) -> None:
    """Attach the API and its blueprints."""
    api.init_app(app)
