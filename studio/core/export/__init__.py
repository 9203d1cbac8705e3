"""Exporting a loaded policy as a graph that maps raw observations to the environment's actions."""
