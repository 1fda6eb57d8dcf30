"""What runs around Flask rather than inside it: the WSGI server and the static files.

Only this package may wrap `app.wsgi_app`; everything here uses the libraries' public APIs.
"""
