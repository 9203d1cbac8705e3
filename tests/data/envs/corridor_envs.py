"""A user's own Gymnasium environment, as the sb3_to_coral author had: registered when the module is imported."""

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Corridor(gym.Env):
    """Walk right to the end of a corridor: observation (position, goal), actions left/right."""

    def __init__(self, length: int = 8) -> None:
        self.length = length
        self.observation_space = spaces.Box(0.0, float(length), (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.position = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(0, self.length // 2))
        return np.array([self.position, self.length], np.float32), {}

    def step(self, action):
        self.position = max(0, self.position + (1 if int(action) == 1 else -1))
        done = self.position >= self.length
        return np.array([self.position, self.length], np.float32), (1.0 if done else -0.1), done, False, {}


gym.register("Corridor-v0", entry_point=Corridor, max_episode_steps=50)
