"""What a policy needs besides the observation: MaskablePPO's action mask, RecurrentPPO's episode start
and LSTM state.

The mask and the episode start come with each observation: an observation batch for such a policy is a
dict that carries them by their graph input names (``observation``, or the Dict space's keys, plus
``action_mask`` and ``episode_start``). :class:`CarryingWrapper` makes an environment emit such
observations, so closed loops, rollouts and calibration pass them along like any observation.

The LSTM state is carried by whoever runs the policy: every runtime (SB3's ``predict`` included)
treats the rows of a batch as consecutive steps of one stream, resets at ``episode_start``, and keeps
the state from one call to the next; :meth:`reset` starts from zeros.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from .policy_io import ACTION_MASK, EPISODE_START, STATE_IN, PolicyIO

CARRIED = (ACTION_MASK, EPISODE_START)


def split(observation: Any) -> tuple[Any, np.ndarray | None, np.ndarray | None]:
    """(the plain observation batch, action masks or None, episode starts or None)."""
    if not isinstance(observation, dict) or not any(key in observation for key in CARRIED):
        return observation, None, None
    rest = {key: value for key, value in observation.items() if key not in CARRIED}
    plain = rest["observation"] if set(rest) == {"observation"} else rest
    return plain, observation.get(ACTION_MASK), observation.get(EPISODE_START)


def carry(observation: Any, action_mask: Any = None, episode_start: Any = None) -> dict[str, Any]:
    """An observation (or batch) that carries a mask and/or episode start flag."""
    carried = dict(observation) if isinstance(observation, dict) else {"observation": observation}
    if action_mask is not None:
        carried[ACTION_MASK] = action_mask
    if episode_start is not None:
        carried[EPISODE_START] = episode_start
    return carried


def rows(batch: Any) -> int:
    return len(next(iter(batch.values()))) if isinstance(batch, dict) else len(batch)


def take(batch: Any, row: int) -> Any:
    """Row ``row`` of a batch, kept as a batch of one."""
    if isinstance(batch, dict):
        return {key: value[row:row + 1] for key, value in batch.items()}
    return batch[row:row + 1]


class StateCarrier:
    """Runs a recurrent graph step by step: ``run(feeds) -> (action, state_out)`` with the state fed."""

    def __init__(self, io: PolicyIO, run: Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]) -> None:
        assert io.recurrent_state is not None
        self.io, self.run = io, run
        self.state = np.zeros(io.recurrent_state.shape, np.float32)

    def reset(self) -> None:
        self.state = np.zeros_like(self.state)

    def actions(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The graph's raw action output for each row of ``feeds``, carrying the state from row to row."""
        outputs = []
        for row in range(rows(feeds)):
            step = take(feeds, row)
            step[STATE_IN] = self.state
            action, self.state = self.run(step)
            outputs.append(np.asarray(action))
        return np.concatenate(outputs)


class OriginalCarrier:
    """SB3's own ``predict`` with the mask and the LSTM state, as the exported graph is judged against."""

    def __init__(self, loaded: Any) -> None:
        self.loaded = loaded
        self._local = threading.local()  # one LSTM state per thread: the closed-loop reference plays in its own

    @property
    def state(self) -> tuple[np.ndarray, np.ndarray] | None:
        return getattr(self._local, "state", None)

    @state.setter
    def state(self, value: tuple[np.ndarray, np.ndarray] | None) -> None:
        self._local.state = value

    def reset(self) -> None:
        self.state = None

    def predict(self, observation: Any) -> np.ndarray:
        plain, masks, starts = split(observation)
        normalization = self.loaded.normalization
        if normalization is not None:
            plain = normalization.normalize(plain)
        model = self.loaded.model
        if self.loaded.algo == "MaskablePPO":
            action, _ = model.predict(plain, deterministic=True, action_masks=None if masks is None else np.asarray(masks, bool))
            return action
        return np.concatenate(self._steps(plain, starts)[0])

    def _steps(self, plain: Any, starts: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Actions of each row, and the LSTM state that went into each (zeros before the first ever)."""
        model = self.loaded.model
        starts = np.zeros(rows(plain)) if starts is None else np.asarray(starts, np.float32).reshape(-1)
        actions, states = [], []
        shape = model.policy.lstm_hidden_state_shape
        for row in range(rows(plain)):
            states.append(np.stack(self.state) if self.state is not None else np.zeros((2, *shape), np.float32))
            action, self.state = model.predict(take(plain, row), state=self.state,
                                               episode_start=starts[row:row + 1], deterministic=True)
            actions.append(action)
        return actions, states

    def states_in(self, observation: Any) -> np.ndarray:
        """The LSTM state going into each step of ``observation``, from zeros: ``(N, 2, layers, 1, hidden)``."""
        plain, _, starts = split(observation)
        if self.loaded.normalization is not None:
            plain = self.loaded.normalization.normalize(plain)
        self.reset()
        return np.stack(self._steps(plain, starts)[1]).astype(np.float32)


def calibration_inputs(loaded: Any, io: PolicyIO, batch: Any) -> dict[str, np.ndarray]:
    """Calibration data for every graph input from a batch of (carried) observations: the observation
    inputs, the masks and episode starts they carry, and the LSTM state the original has at each step."""
    feeds = io.feeds(batch)
    if io.recurrent_state is not None:
        feeds[STATE_IN] = OriginalCarrier(loaded).states_in(batch)
    return feeds


class CarryingWrapper(gym.Wrapper):
    """Observations that carry the action mask (from the environment's ``action_masks()``; all allowed
    when it has none) and/or the episode start flag (1.0 after reset), as ``io`` asks."""

    def __init__(self, env: gym.Env, io: PolicyIO) -> None:
        super().__init__(env)
        self.masked = io.action_mask is not None
        self.recurrent = io.recurrent_state is not None
        self.mask_size = io.action_mask.shape[0] if io.action_mask is not None else 0
        self.has_masks = self.masked and _masks_of(env) is not None

    def _carry(self, observation: Any, start: bool) -> dict[str, Any]:
        mask = None
        if self.masked:
            method = _masks_of(self.env)
            mask = np.asarray(method(), bool).reshape(-1) if method is not None else np.ones(self.mask_size, bool)
        return carry(observation, mask, np.float32(1.0 if start else 0.0) if self.recurrent else None)

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        observation, info = self.env.reset(**kwargs)
        return self._carry(observation, True), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return self._carry(observation, False), reward, terminated, truncated, info


def carrying(env: gym.Env, loaded: Any) -> gym.Env:
    """``env`` wrapped so that its observations carry what ``loaded``'s graph takes besides them."""
    from .export.families import policy_io_of

    return CarryingWrapper(env, policy_io_of(loaded))


def _masks_of(env: gym.Env) -> Callable[[], Any] | None:
    try:
        method = env.get_wrapper_attr("action_masks")
    except AttributeError:
        return None
    return method if callable(method) else None


def random_action(space: gym.Space, observation: Any) -> Any:
    """A uniformly random action among those the carried mask allows (any action when there is none)."""
    _, masks, _ = split(observation)
    if masks is None or not isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
        return space.sample()
    mask = np.asarray(masks, np.int8).reshape(-1)
    if isinstance(space, gym.spaces.Discrete):
        return space.sample(mask=mask if mask.any() else None)
    bounds = np.cumsum([0, *space.nvec.ravel()])
    parts = tuple(mask[a:b] if mask[a:b].any() else np.ones(b - a, np.int8) for a, b in zip(bounds[:-1], bounds[1:]))
    return space.sample(mask=parts)


FAMILIES = ("RecurrentPPO", "MaskablePPO")
SAMPLED_EPISODE = 25  # sampled observations of a recurrent policy: a new episode every this many rows


def random_masks(io: PolicyIO, n: int, rng: np.random.Generator) -> np.ndarray:
    """Masks for sampled observations: each choice allowed with probability 1/2, at least one per part;
    every tenth row allows everything (the policy as it is without masks)."""
    assert io.action_mask is not None
    from .export.masked import parts_of_mask

    masks = rng.random((n, io.action_mask.shape[0])) < 0.5
    start = 0
    for size in parts_of_mask(io):
        part = masks[:, start:start + size]
        part[np.arange(n), rng.integers(size, size=n)] = True
        start += size
    masks[::10] = True
    return masks


def sampled_for(loaded: Any, n: int, seed: int, visited: Any = None) -> Any:
    """``n`` observations sampled from ``loaded``'s space (see :func:`studio.core.observations.sample_observations`),
    carrying random masks and episode starts for RecurrentPPO and MaskablePPO."""
    from .observations import ObservationSet, sample_observations

    if visited is not None and loaded.algo in FAMILIES:
        visited = ObservationSet(visited.source, split(visited.batch)[0], visited.detail)
    sampled = sample_observations(loaded.observation_space, n, seed, loaded.normalization, visited)
    if loaded.algo not in FAMILIES:
        return sampled
    from .export.families import policy_io_of

    io = policy_io_of(loaded)
    rng = np.random.default_rng(seed + 1)
    detail = dict(sampled.detail)
    masks = starts = None
    if io.action_mask is not None:
        masks = random_masks(io, n, rng)
        detail["action_masks"] = "random, each choice allowed with probability 1/2 (at least one per part); every 10th all"
    if io.recurrent_state is not None:
        starts = (np.arange(n) % SAMPLED_EPISODE == 0).astype(np.float32)
        detail["episode_starts"] = f"a new episode every {SAMPLED_EPISODE} observations, the state carried between"
    return ObservationSet(sampled.source, carry(sampled.batch, masks, starts), detail)


def judges_for(loaded: Any) -> Callable[[], Callable[[Any], np.ndarray]] | None:
    """A maker of fresh originals, one per rollout pane, for policies with memory (see ``LockstepRollout``)."""
    if loaded.algo != "RecurrentPPO":
        return None
    return lambda: OriginalCarrier(loaded).predict
