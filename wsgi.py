"""Entry point for a WSGI server: gunicorn wsgi:app (run `flask --app merchant worker` beside it)."""
from merchant import create_app

app = create_app()
