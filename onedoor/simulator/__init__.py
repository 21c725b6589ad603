"""A stand-in for the departments' own systems, for development, tests and benchmarks."""
