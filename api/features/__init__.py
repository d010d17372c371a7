"""Optional parts of the web app (dashboard pages, export): each module exposes ``setup(app)``."""
