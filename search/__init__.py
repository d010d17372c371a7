"""Strategies and the tuning loop: ask -> evaluate -> tell -> persist."""
