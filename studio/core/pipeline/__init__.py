"""The conversion pipeline: stages, the runner that yields events, and the run folder."""
