"""The web layer: app factory, API blueprint, problem+json handlers, OpenAPI document."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify

from hall_server.settings import Settings
from hall_server.web.api import api
from hall_server.web.live import create_socketio
from hall_server.web.openapi import openapi_document
from hall_server.web.pages import pages
from hall_server.web.problems import install_error_handlers

log = logging.getLogger(__name__)

MAX_BODY = 2 * 1024 * 1024  # a whole catalogue import fits; other bodies are tiny and field-checked


def create_app(settings: Settings | None = None, *, container: Any = None) -> Flask:
    """Build the Flask app around a container (made from settings when not given)."""
    if container is None:
        from hall_server.bootstrap import bootstrap  # the composition root, in the factory only

        container = bootstrap(settings or Settings.from_env())
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["onedoor"] = container
    install_error_handlers(app)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    # The live stream on the same port; committed events reach it through the container.
    socketio = create_socketio(app, container.settings.message_queue)
    container.attach_socketio(socketio)

    @app.get("/api/v1/openapi.json")
    def openapi() -> Response:
        """The OpenAPI 3.1 document of the whole API."""
        return jsonify(openapi_document())

    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness for process supervisors."""
        return jsonify({"status": "ok"})

    return app
