"""Benchmarks: onedoor through its HTTP API, against bare Temporal on the same server."""
