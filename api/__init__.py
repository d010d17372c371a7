"""How people reach tuneforge: the FastAPI app, the dashboard and the ``tuneforge`` CLI."""
