"""Exporting a loaded policy as a graph that maps raw observations to the environment's actions.

This package module stays light (no torch): the pipeline reads ``DEFAULT_OPSET`` without paying for
the exporter.
"""

DEFAULT_OPSET = 17
