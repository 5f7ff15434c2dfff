"""Entry point: ``app`` for gunicorn; run directly to serve with Socket.IO on PORT (default 5000)."""

import os

from portal.app import create_app
from portal.extensions import socketio

app = create_app()
celery_app = app.extensions.get("celery")

if __name__ == "__main__":
    socketio.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        allow_unsafe_werkzeug=True,
        debug=False,
    )
