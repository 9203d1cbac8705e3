"""The exact-action module for any supported policy: the plain one, or its family's.

RecurrentPPO and MaskablePPO have their own graphs (extra inputs and outputs); CrossQ's is the plain
one with BatchRenorm folded into its linear layers.
"""

from __future__ import annotations

from typing import Any

from ..loading import LoadedModel
from ..policy_io import PolicyIO
from .exact_policy import ExactPolicy


def exact_module(loaded: LoadedModel, for_tflite: bool = False) -> Any:
    """The torch module of ``loaded``'s exact actions, in evaluation mode. ``for_tflite``: the graph
    onnx2tf converts (a recurrent policy's state 2-D, see :class:`.recurrent.RecurrentExactPolicy`)."""
    if loaded.algo == "RecurrentPPO":
        from .recurrent import RecurrentExactPolicy

        return RecurrentExactPolicy(loaded, flat_state=for_tflite).eval()
    if loaded.algo == "MaskablePPO":
        from .masked import MaskedExactPolicy

        return MaskedExactPolicy(loaded).eval()
    module = ExactPolicy(loaded)
    if loaded.algo == "CrossQ":
        from .batch_renorm import fold_policy

        module.policy = fold_policy(loaded.policy)
    return module.eval()


def policy_io_of(loaded: LoadedModel) -> PolicyIO:
    """The graph's inputs and outputs, without building the module's weights twice."""
    from ..policy_io import STATE_IN, TensorSpec, policy_io_for

    io = policy_io_for(loaded.observation_space, loaded.action_space)
    if loaded.algo == "MaskablePPO":
        from .masked import mask_parts, mask_spec

        io.action_mask = mask_spec(loaded.action_space)
        io.extra["mask_parts"] = mask_parts(loaded.action_space)
    if loaded.algo == "RecurrentPPO":
        from .recurrent import lstm_shape

        io.recurrent_state = TensorSpec(STATE_IN, lstm_shape(loaded.policy), "float32", "float32")
    return io


def write_tflite_source(loaded: LoadedModel, onnx_artifact: Any, target: Any) -> None:
    """The ONNX file onnx2tf converts: a copy of the verified artifact, or for a recurrent policy the same
    graph with its state 2-D (the copy: onnx2tf rewrites its input file)."""
    import shutil

    if loaded.algo != "RecurrentPPO":
        shutil.copyfile(onnx_artifact, target)
        return
    from .onnx_export import export_module_bytes

    target.write_bytes(export_module_bytes(exact_module(loaded, for_tflite=True), loaded.path))


def describe_graph(loaded: LoadedModel) -> dict[str, Any]:
    """The exported graph's inputs and outputs in words, and what remembers or masks, for ``inspect``."""
    from ..policy_io import STATE_OUT

    io = policy_io_of(loaded)
    what = {"action_mask": "1 = allowed, SB3's mask layout", "episode_start": "1.0 at an episode's first step",
            "lstm_state_in": "the actor's LSTM (h, c)"}
    inputs = [{"name": spec.name, "shape": list(spec.shape), "what": what.get(spec.name, "")} for spec in io.graph_inputs]
    outputs = [{"name": io.action.name, "shape": list(io.action.shape), "what": ""}]
    info: dict[str, Any] = {"inputs": inputs, "outputs": outputs}
    if io.recurrent_state is not None:
        outputs.append({"name": STATE_OUT, "shape": list(io.recurrent_state.shape), "what": "the state for the next step"})
        policy = loaded.policy
        critic = "shared with the actor" if policy.shared_lstm else "its own" if policy.lstm_critic is not None else "none"
        info["memory"] = (f"LSTM, {io.recurrent_state.shape[1]} layer(s) of {io.recurrent_state.shape[3]}; "
                          f"critic LSTM: {critic} (acting needs only the actor's)")
    if loaded.algo == "CrossQ":
        info["memory"] = "BatchRenorm (evaluation mode) folded into the linear layers after it"
    return info
