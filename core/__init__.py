"""Shared vocabulary and settings; depends on nothing else in tuneforge."""
