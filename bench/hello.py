"""The ceiling: a minimal Flask app served exactly like the portal, so its rate is the most a page can reach."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, world!"
