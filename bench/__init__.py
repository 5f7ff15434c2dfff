"""The benchmark harness: a data generator and a load driver (see bench/README.md)."""
