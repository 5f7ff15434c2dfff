"""Entry point: ``app`` for gunicorn; run directly to serve with Socket.IO on PORT (default 5000)."""

import gc
import os

from portal.app import create_app
from portal.extensions import socketio

app = create_app()
# What start-up made (modules, the app, mappers, catalogues) lives as long as the process: frozen,
# the garbage collector no longer walks it on every pass that a large request (a 1,000-event batch
# allocates tens of thousands of objects) sets off.
gc.freeze()
celery_app = app.extensions.get("celery")

if __name__ == "__main__":
    socketio.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        allow_unsafe_werkzeug=True,
        debug=False,
    )
