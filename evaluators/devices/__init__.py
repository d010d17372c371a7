"""One module per device kind; each exposes ``DEVICES`` (a list of Device classes)."""
