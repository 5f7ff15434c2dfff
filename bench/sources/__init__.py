"""Benchmark data generators and URLs, one module per package (imported by ``bench.registry``)."""
