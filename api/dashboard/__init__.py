"""The web dashboard: server-rendered pages (Jinja2) with a small script layer of our own (SVG plots, SSE)."""
