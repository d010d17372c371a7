"""`tuneforge bench search`: tuneforge's strategies against Kernel Tuner's on measured spaces."""
