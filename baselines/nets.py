"""The small torch network shared by the deep baselines (PPO and behaviour cloning).

    codes (B, 13, 13, 3) -> per-cell embedding -> roll: agent at the centre -> flatten
        -> Linear(676, 64) -> ReLU -> Linear(64, 64) -> ReLU -> policy logits (5) | value (1)

48,102 parameters. Per-cell embedding: each cell's object type, colour and state are one-hot
encoded over the encoding tables (`N_TYPES`, `N_COLOURS`, `N_STATES` slots, more than the suite
uses today) and mapped linearly to `EMBED` numbers: the sum of three table rows, the same
function as one-hot followed by a 1x1 convolution, without materialising the one-hot (done in
torch from the raw uint8 codes; measured faster than a one-hot made in numpy). The embedded
grid is then rolled cyclically so the agent sits at the centre (an egocentric, wrap-around
view), and a two-layer ReLU MLP trunk feeds both heads.

Agents: `GreedyAgent` (argmax) and `SamplingAgent` (seeded sampling, what both baselines use).
torch is imported here; the core package (`benchmark`) never imports this module.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmark import grid as G

N_TYPES, N_COLOURS, N_STATES = 32, 16, 8
EMBED, HIDDEN = 4, 64
N_ACTIONS = 5
AGENT = G.OBJECT_TO_IDX["agent"]


class Lookup(torch.autograd.Function):
    """`F.embedding` whose backward is one `index_add_`: faster on CPU than
    torch's embedding backward for the ~350k lookups of a PPO minibatch."""

    @staticmethod
    def forward(ctx, table, index):
        ctx.save_for_backward(index)
        ctx.rows = table.shape[0]
        return F.embedding(index, table)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        flat = grad.reshape(-1, grad.shape[-1])
        table_grad = flat.new_zeros(ctx.rows, flat.shape[1]).index_add_(0, index.reshape(-1), flat)
        return table_grad, None


class GridEncoder(nn.Module):
    """(B, S, S, 3) codes (any numeric dtype) -> (B, hidden) features.

    Cell embedding = type_table[type] + colour_table[colour] + state_table[state] (one-hot of
    each channel times a linear map). For speed the three tables are summed into one table over
    all (type, colour, state) combinations, then each cell does a single lookup."""

    def __init__(self, embed: int = EMBED, hidden: int = HIDDEN, size: int = G.SIZE):
        super().__init__()
        self.types = nn.Parameter(torch.randn(N_TYPES, embed))
        self.colours = nn.Parameter(torch.randn(N_COLOURS, embed))
        self.states = nn.Parameter(torch.randn(N_STATES, embed))
        self.register_buffer("limits", torch.tensor([N_TYPES - 1, N_COLOURS - 1, N_STATES - 1]), persistent=False)
        self.register_buffer("radix", torch.tensor([N_COLOURS * N_STATES, N_STATES, 1]), persistent=False)
        self.trunk = nn.Sequential(
            nn.Flatten(), nn.Linear(size * size * embed, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU())
        self.features_dim = hidden

    def cell_index(self, codes: torch.Tensor) -> torch.Tensor:
        return (torch.minimum(codes.long(), self.limits) * self.radix).sum(dim=-1)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        e = self.types.shape[1]
        table = (self.types[:, None, None] + self.colours[None, :, None] + self.states[None, None]).reshape(-1, e)
        return self.trunk(Lookup.apply(table, centred(codes, self.cell_index(codes))))


def centred(codes: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """Roll each (S, S) grid of `cells` cyclically so that the agent sits at the centre
    (S // 2, S // 2): the egocentric, wrap-around view. Every cell stays in view; the border
    walls still show where the agent is in absolute terms."""
    b, s = cells.shape[0], cells.shape[1]
    flat = (codes[..., 0] == AGENT).reshape(b, -1).to(torch.uint8).argmax(dim=1)
    shift = torch.arange(s, device=cells.device) - s // 2
    rows = (torch.div(flat, s, rounding_mode="floor")[:, None] + shift) % s
    cols = (flat % s)[:, None] + shift
    return cells[torch.arange(b, device=cells.device)[:, None, None], rows[:, :, None], (cols % s)[:, None, :]]


class GridPolicy(nn.Module):
    """Encoder + linear policy head (logits over the 5 actions) + linear value head."""

    def __init__(self, embed: int = EMBED, hidden: int = HIDDEN):
        super().__init__()
        self.encoder = GridEncoder(embed, hidden)
        self.pi = nn.Linear(hidden, N_ACTIONS)
        self.v = nn.Linear(hidden, 1)

    def forward(self, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(codes)
        return self.pi(h), self.v(h).squeeze(-1)

    def logits(self, codes: torch.Tensor) -> torch.Tensor:
        return self.pi(self.encoder(codes))


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def save_policy(net: GridPolicy, path, **meta) -> None:
    """Weights as float16 (they are small and act the same), plus metadata, via torch.save."""
    state = {k: v.detach().to(torch.float16) for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "meta": meta}, path)


def load_policy(path) -> GridPolicy:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    meta = blob.get("meta", {})
    net = GridPolicy(meta.get("embed", EMBED), meta.get("hidden", HIDDEN))
    net.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    return net.eval()


class GreedyAgent:
    """Acts by the argmax of the policy logits on a batch: `act(obs, first) -> (B,) int64`."""

    def __init__(self, net: GridPolicy):
        self.net = net

    @torch.inference_mode()
    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        logits = self.net.logits(torch.from_numpy(np.ascontiguousarray(obs)))
        return logits.argmax(dim=-1).numpy().astype(np.int64)


class SamplingAgent:
    """Samples actions from the policy's softmax with a torch generator seeded at construction,
    so a run of `act` calls is reproducible: `act(obs, first) -> (B,) int64`."""

    def __init__(self, net: GridPolicy, seed: int):
        self.net = net
        self.generator = torch.Generator().manual_seed(seed)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, first: np.ndarray) -> np.ndarray:
        probs = torch.softmax(self.net.logits(torch.from_numpy(np.ascontiguousarray(obs))), dim=-1)
        return torch.multinomial(probs, 1, generator=self.generator).squeeze(1).numpy().astype(np.int64)
