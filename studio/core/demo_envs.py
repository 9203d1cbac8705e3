"""Small environments of the studio's own, for the agents it ships (``tests/data/agents``).

Registered with Gymnasium when this module is imported, which the studio does from its table of
environment families (:mod:`studio.core.envs.families`) when a model names one of these ids.

* ``CatchPixels-v0``: catch a falling, sideways-bouncing ball with a paddle, seen as a 40x40 grey
  frame. One frame does not show which way the ball moves; two stacked frames do.
* ``WallGrid-v0``: walk to a goal on a 6x6 grid around a wall; moves into the wall or off the grid
  are invalid, and ``action_masks()`` says which (MaskablePPO's convention: True = allowed).

Plain Python and numpy, no rendering libraries: ``rgb_array`` frames are the observation scaled up.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

class CatchPixels(gym.Env):
    """A ball falls one row per step, moving -1, 0 or +1 columns and bouncing off the sides.

    The paddle (3 cells wide, bottom row) moves left, stays or moves right. +1 for a catch, -1 for a
    miss; an episode is ``balls`` balls. Observation: a (40, 40, 1) uint8 frame, 4 pixels per cell.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    SIZE, SCALE, PADDLE = 10, 4, 3

    def __init__(self, balls: int = 6, render_mode: str | None = None) -> None:
        side = self.SIZE * self.SCALE
        self.observation_space = spaces.Box(0, 255, (side, side, 1), np.uint8)
        self.action_space = spaces.Discrete(3)
        self.balls = balls
        self.render_mode = render_mode
        self._ball = np.zeros(2, np.int64)
        self._vx = 0
        self._paddle = 0
        self._caught = 0

    def _spawn(self) -> None:
        self._ball = np.array([0, self.np_random.integers(self.SIZE)])
        self._vx = int(self.np_random.integers(-1, 2))

    def _frame(self) -> np.ndarray:
        grid = np.zeros((self.SIZE, self.SIZE), np.uint8)
        grid[self.SIZE - 1, self._paddle : self._paddle + self.PADDLE] = 128
        grid[self._ball[0], self._ball[1]] = 255
        return np.kron(grid, np.ones((self.SCALE, self.SCALE), np.uint8))[..., None]

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._paddle = (self.SIZE - self.PADDLE) // 2
        self._caught = 0
        self._spawn()
        return self._frame(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._paddle = int(np.clip(self._paddle + int(action) - 1, 0, self.SIZE - self.PADDLE))
        row, col = int(self._ball[0]) + 1, int(self._ball[1]) + self._vx
        if col < 0 or col >= self.SIZE:
            self._vx = -self._vx
            col = int(self._ball[1]) + self._vx
        self._ball = np.array([row, col])
        reward, terminated = 0.0, False
        if row == self.SIZE - 1:
            reward = 1.0 if self._paddle <= col < self._paddle + self.PADDLE else -1.0
            self._caught += 1
            terminated = self._caught >= self.balls
            if not terminated:
                self._spawn()
        return self._frame(), reward, terminated, False, {}

    def render(self) -> np.ndarray:
        frame = np.repeat(self._frame(), 3, axis=2)
        return np.kron(frame, np.ones((6, 6, 1), np.uint8))


class WallGrid(gym.Env):
    """Walk from a random start to a random goal on a 6x6 grid with a wall across the middle.

    Actions: 0 up, 1 down, 2 left, 3 right. A move off the grid or into the wall is invalid
    (``action_masks()``); taken anyway, it leaves the agent where it is. Observation: agent and goal
    coordinates scaled to [0, 1]. Reward -0.02 per step, +1 at the goal; at most 40 steps.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    SIZE, LIMIT = 6, 40
    MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]])
    WALL = {(3, c) for c in range(0, 4)}  # row 3, columns 0-3: the way round is on the right

    def __init__(self, render_mode: str | None = None) -> None:
        self.observation_space = spaces.Box(0.0, 1.0, (4,), np.float32)
        self.action_space = spaces.Discrete(4)
        self.render_mode = render_mode
        self._agent = np.zeros(2, np.int64)
        self._goal = np.zeros(2, np.int64)
        self._t = 0

    def _free_cell(self) -> np.ndarray:
        while True:
            cell = self.np_random.integers(self.SIZE, size=2)
            if (int(cell[0]), int(cell[1])) not in self.WALL:
                return cell

    def _allowed(self, cell: np.ndarray) -> bool:
        inside = bool(np.all(cell >= 0) and np.all(cell < self.SIZE))
        return inside and (int(cell[0]), int(cell[1])) not in self.WALL

    def action_masks(self) -> np.ndarray:
        return np.array([self._allowed(self._agent + move) for move in self.MOVES])

    def _observation(self) -> np.ndarray:
        return (np.concatenate([self._agent, self._goal]) / (self.SIZE - 1)).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._agent = self._free_cell()
        self._goal = self._free_cell()
        while np.array_equal(self._goal, self._agent):
            self._goal = self._free_cell()
        self._t = 0
        return self._observation(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._t += 1
        target = self._agent + self.MOVES[int(action)]
        if self._allowed(target):
            self._agent = target
        reached = bool(np.array_equal(self._agent, self._goal))
        reward = (1.0 if reached else 0.0) - 0.02
        return self._observation(), reward, reached, self._t >= self.LIMIT, {}

    def render(self) -> np.ndarray:
        grid = np.full((self.SIZE, self.SIZE, 3), 255, np.uint8)
        for cell in self.WALL:
            grid[cell] = (60, 60, 60)
        grid[tuple(self._goal)] = (40, 180, 40)
        grid[tuple(self._agent)] = (40, 80, 220)
        return np.kron(grid, np.ones((32, 32, 1), np.uint8))


def register() -> None:
    """Register the environments above (once)."""
    registry = gym.envs.registry
    if "CatchPixels-v0" not in registry:
        gym.register("CatchPixels-v0", entry_point=CatchPixels)
    if "WallGrid-v0" not in registry:
        gym.register("WallGrid-v0", entry_point=WallGrid)


register()
