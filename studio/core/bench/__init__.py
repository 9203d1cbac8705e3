"""Latency benchmarks: every runtime in its own child process, interleaved in rounds."""
