"""Devices: compile, verify against the reference, time; real and simulated."""
