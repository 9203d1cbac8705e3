"""The studio's session model (Qt-free): the opened models and everything each one has produced."""

from .bench import BenchState
from .entry import ModelEntry, RolloutState
from .runs import ArtifactInfo, RunRecord
from .session import Opened, Session, default_store
from .stages import PipelineState, StageState

__all__ = ["ArtifactInfo", "BenchState", "ModelEntry", "Opened", "PipelineState", "RolloutState", "RunRecord",
           "Session", "StageState", "default_store"]
