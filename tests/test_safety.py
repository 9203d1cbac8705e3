"""Loading and inspecting never runs code from the file."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import ZOO_AGENTS
from helpers import rewrite_zip, set_data_entry

from studio.core.errors import ForbiddenClassError
from studio.core.loading import load_model
from studio.core.zoo import load_vecnormalize


class Payload:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("entry", ["observation_space", "policy_kwargs", "_last_obs", "something_else"])
def test_payload_in_model_is_refused_and_never_runs(entry: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Payload(marker))
    # The payload really would run if unpickled normally:
    pickle.loads(payload)
    assert marker.exists()
    marker.unlink()

    bad = rewrite_zip(ZOO_AGENTS["ppo"], tmp_path / "bad.zip", lambda f: set_data_entry(f, entry, payload))
    with pytest.raises(ForbiddenClassError) as info:
        load_model(bad)
    assert info.value.class_name == "posix.system"
    assert info.value.entry == entry
    assert "posix.system" in str(info.value) and str(bad) in str(info.value)
    assert not marker.exists()


def test_payload_in_vecnormalize_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "a2c" / "Pendulum-v1_1"
    shutil.copytree(ZOO_AGENTS["a2c"].parent, folder)
    (folder / "Pendulum-v1" / "vecnormalize.pkl").write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ForbiddenClassError) as info:
        load_model(folder / "Pendulum-v1.zip")
    assert info.value.class_name == "posix.system"
    with pytest.raises(ForbiddenClassError):
        load_vecnormalize(folder / "Pendulum-v1" / "vecnormalize.pkl")
    assert not marker.exists()


def test_payload_in_weights_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    import io

    import torch

    buffer = io.BytesIO()
    torch.save({"weight": Payload(marker)}, buffer)
    bad = rewrite_zip(ZOO_AGENTS["ppo"], tmp_path / "bad.zip", lambda f: dict(f, **{"policy.pth": buffer.getvalue()}))
    with pytest.raises(ForbiddenClassError) as info:
        load_model(bad)
    assert info.value.entry == "policy.pth"
    assert not marker.exists()
