"""What ``sb3-studio inspect`` reports about a loaded model."""

from __future__ import annotations

from typing import Any

from .envs import EnvStatus
from .errors import EnvironmentUnavailableError
from .loading import LoadedModel
from .spaces import describe_space, short_space, space_to_json


def acting_network(policy: Any) -> Any:
    """The sub-network that chooses actions: the actor, the Q-network, or the policy itself."""
    for name in ("actor", "q_net", "quantile_net"):
        if hasattr(policy, name):
            return getattr(policy, name)
    return policy


def _acting_parameters(policy: Any) -> int:
    net = acting_network(policy)
    if net is not policy:
        return sum(p.numel() for p in net.parameters())
    critic_parts = [getattr(policy, "value_net", None), getattr(getattr(policy, "mlp_extractor", None), "value_net", None),
                    getattr(policy, "lstm_critic", None), getattr(policy, "critic", None)]  # RecurrentPPO's critic
    if not getattr(policy, "share_features_extractor", True):
        critic_parts.append(getattr(policy, "vf_features_extractor", None))
    critic = {id(p) for part in critic_parts if part is not None for p in part.parameters()}
    return sum(p.numel() for p in policy.parameters() if id(p) not in critic)


def _network(policy: Any) -> dict[str, Any]:
    net = acting_network(policy)
    extractor = getattr(net, "features_extractor", None)
    activation = getattr(net, "activation_fn", None) or getattr(policy, "activation_fn", None)
    return {
        "acting_module": type(net).__name__,
        "features_extractor": type(extractor).__name__ if extractor is not None else None,
        "features_dim": getattr(extractor, "features_dim", None),
        "net_arch": getattr(net, "net_arch", None) or getattr(policy, "net_arch", None),
        "activation": getattr(activation, "__name__", None),
    }


def _graph(loaded: LoadedModel) -> dict[str, Any]:
    from .export.families import describe_graph

    return describe_graph(loaded)


def environment_status(loaded: LoadedModel) -> EnvStatus:
    """Whether the model's environment can be made here, and how (migrations, wrappers)."""
    try:
        return EnvStatus(loaded.env_id, True, recipe=loaded.env_recipe())
    except EnvironmentUnavailableError as exc:
        return EnvStatus(loaded.env_id, False, exc.line())


def inspect_model(loaded: LoadedModel, check_environment: bool = True) -> dict[str, Any]:
    """A JSON-ready description of ``loaded``."""
    policy = loaded.policy
    norm = loaded.normalization
    env = environment_status(loaded).to_json() if check_environment else {"id": loaded.env_id}
    return {
        "file": str(loaded.path),
        "algorithm": loaded.algo,
        "policy_class": f"{type(policy).__module__}.{type(policy).__name__}",
        "observation_space": describe_space(loaded.observation_space),
        "action_space": describe_space(loaded.action_space),
        "observation_short": short_space(loaded.observation_space),
        "action_short": short_space(loaded.action_space),
        "spaces": {
            "observation": space_to_json(loaded.observation_space),
            "action": space_to_json(loaded.action_space),
        },
        "network": _network(policy),
        "graph": _graph(loaded),
        "parameters": int(sum(p.numel() for p in policy.parameters())),
        "acting_parameters": int(_acting_parameters(policy)),
        "saved_with": {"stable_baselines3": loaded.sb3_version, "python": loaded.python_version},
        "gsde": bool(getattr(loaded.model, "use_sde", False)),
        "normalization": {
            "present": norm is not None,
            "source": norm.source if norm else None,
            "clip_obs": norm.clip_obs if norm else None,
        },
        "environment": env,
        "zoo_folder": str(loaded.zoo.folder) if loaded.zoo.folder else None,
        "trusted": loaded.trusted,
        "notes": list(loaded.notes),
    }


def format_inspection(info: dict[str, Any]) -> str:
    """The human-readable form printed by ``sb3-studio inspect``."""
    net = info["network"]
    env = info["environment"]
    norm = info["normalization"]
    saved = info["saved_with"]
    arch = net["net_arch"]
    env_line = env["id"] or "unknown"
    if "can_make" in env:
        env_line += f" (made here as {env['made_as']})" if env["can_make"] else f" (not available: {env['reason']})"
    rows = [
        ("File", info["file"]),
        ("Algorithm", info["algorithm"]),
        ("Policy", info["policy_class"]),
        ("Observation", info["observation_space"]),
        ("Action", info["action_space"]),
        ("Network", f"{net['features_extractor']} -> {arch} {net['activation'] or ''}".rstrip()),
        ("Parameters", f"{info['parameters']:,} ({info['acting_parameters']:,} choose the action)"),
        *_graph_rows(info.get("graph")),
        ("Saved with", f"SB3 {saved['stable_baselines3'] or 'unknown (very old)'}, Python {saved['python'] or 'unknown'}"),
        ("gSDE", "yes" if info["gsde"] else "no"),
        ("Normalisation", f"VecNormalize from {norm['source']} (clip {norm['clip_obs']:g})" if norm["present"] else "none"),
        ("Environment", env_line),
    ]
    if (info.get("graph") or {}).get("memory"):
        rows.insert(6, ("Inside", info["graph"]["memory"]))
    rows += [("Env note", note) for note in env.get("migrated") or []]
    rows += [("Note", note) for note in info["notes"]]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _graph_rows(graph: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not graph:  # described before graphs were (a cached description)
        return []
    return [("Graph inputs", ", ".join(_tensor(t) for t in graph["inputs"])),
            ("Graph outputs", ", ".join(_tensor(t) for t in graph["outputs"]))]


def _tensor(tensor: dict[str, Any]) -> str:
    shape = "x".join(str(d) for d in tensor["shape"]) or "scalar"
    return f"{tensor['name']} [{shape}]" + (f" ({tensor['what']})" if tensor["what"] else "")
