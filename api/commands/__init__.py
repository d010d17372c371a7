"""CLI command groups: each module exposes ``register(app, bench)``, where ``bench`` is the
``tuneforge bench`` sub-app. ``api/cli.py`` finds them all."""
