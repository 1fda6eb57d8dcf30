"""WSGI entry point: gunicorn wsgi:app (and `flask --app merchant worker` beside it)."""
from merchant import create_app

app = create_app()
