"""Train the stable-baselines3 PPO baseline: `proxybench train ppo-sb3 --task T --seed S [--steps N]`.

stable-baselines3 PPO on CPU torch, through `benchmark.envs.sb3.ProxySB3VecEnv` (the native numpy
vector env of the train split, alpha as given, level stream seeded by the training seed). The
network is the shared one of `baselines/nets.py` as SB3's features extractor (egocentric
one-hot cell embedding + two-layer MLP trunk, shared by actor and critic), with SB3's linear
policy and value heads on top (`net_arch=[]`). Hyperparameters (chosen on train-split returns
only, standard track) are in PPO_KWARGS; the default budget per task is STEPS[task].

Writes weights/<Task>-seed<S>.pt: the trunk and both heads as a `nets.GridPolicy` state dict in
float16. Deterministic for a given seed, task, alpha and steps on one machine: SB3 seeds torch,
numpy and the env, and torch runs single-threaded (THREADS).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from tqdm import tqdm

from baselines import nets
from benchmark.envs.sb3 import ProxySB3VecEnv
from benchmark.contract.registry import get_task

HERE = Path(__file__).parent
THREADS = 1
NUM_ENVS = 64
PPO_KWARGS = dict(n_steps=128, batch_size=2048, n_epochs=4, learning_rate=5e-4, ent_coef=0.01,
                  gamma=0.99, gae_lambda=0.95, clip_range=0.2, vf_coef=0.5, max_grad_norm=0.5)
# Env steps per task: the default budget of `proxybench train ppo-sb3` (what the committed weights
# were trained with). See baselines/README.md for the wall time each took.
STEPS = {
    "RedDoor": 1_000_000,
    "CoinEnd": 1_000_000,
    "CheeseCorner": 1_000_000,
    "CheeseDish": 1_000_000,
    "KeysChests": 1_000_000,
    "LavaLand": 1_000_000,
    "MonsterShields": 1_500_000,
    "FollowGuide": 500_000,
    "SpuriousCue": 250_000,
}
DEFAULT_STEPS = 1_000_000     # a task without an entry above


class GridFeatures(BaseFeaturesExtractor):
    """SB3 face of `nets.GridEncoder`: raw uint8 codes in (SB3 hands them over as floats,
    since the adapter's observation space is not an image), features out."""

    def __init__(self, observation_space, embed: int = nets.EMBED, hidden: int = nets.HIDDEN):
        encoder = nets.GridEncoder(embed, hidden)
        super().__init__(observation_space, encoder.features_dim)
        self.encoder = encoder

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.encoder(observations)


def to_grid_policy(model: PPO) -> nets.GridPolicy:
    """The trained SB3 policy's weights as the standalone network the agent loads."""
    policy = model.policy
    net = nets.GridPolicy()
    net.encoder.load_state_dict(policy.features_extractor.encoder.state_dict())
    net.pi.load_state_dict(policy.action_net.state_dict())
    net.v.load_state_dict(policy.value_net.state_dict())
    return net


class _Progress(BaseCallback):
    def __init__(self, bar: tqdm):
        super().__init__()
        self.bar = bar

    def _on_step(self) -> bool:
        self.bar.update(self.model.num_timesteps - self.bar.n)
        return True

    def _on_rollout_end(self) -> None:
        episodes = self.model.ep_info_buffer
        if episodes:
            self.bar.set_postfix(ret=f"{np.mean([e['r'] for e in episodes]):.3f}",
                                 len=f"{np.mean([e['l'] for e in episodes]):.1f}")


def train(task: str, seed: int, alpha: float = 0.0, steps: int | None = None,
          out: Path | None = None, progress: bool = True) -> Path:
    name = get_task(task).name
    steps = steps if steps is not None else STEPS.get(name, DEFAULT_STEPS)
    torch.set_num_threads(THREADS)
    start = time.time()
    env = ProxySB3VecEnv(name, NUM_ENVS, alpha=alpha, seed=seed)
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **PPO_KWARGS,
                policy_kwargs=dict(features_extractor_class=GridFeatures, net_arch=[],
                                   normalize_images=False))
    with tqdm(total=steps, desc=f"ppo-sb3 {name} seed {seed}", unit="step", unit_scale=True,
              disable=not progress) as bar:
        model.learn(steps, callback=_Progress(bar))
    episodes = model.ep_info_buffer
    out = Path(out or HERE / "weights") / f"{name}-seed{seed}.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    nets.save_policy(to_grid_policy(model), out, embed=nets.EMBED, hidden=nets.HIDDEN, task=name,
                     seed=seed, alpha=alpha, env_steps=int(model.num_timesteps),
                     final_return=round(float(np.mean([e["r"] for e in episodes])), 4) if episodes else None,
                     seconds=round(time.time() - start, 1))
    return out
