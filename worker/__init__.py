"""The Celery app and its tasks (thin shims), and the embedded mode's local process pool."""
