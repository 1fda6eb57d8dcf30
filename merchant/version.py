"""The release this code is: pyproject.toml reads it, `flask --app merchant version` and the
panel's footer show it, CHANGELOG.md says what each release changed and how to upgrade."""
__version__ = "0.19.1"
