"""An analytical GPU model (roofline, tile and wave quantization, occupancy, pipelining): modelled numbers only."""
