"""The batched grid engine: cell codes, level randomness, kernels, layouts, search, rendering.

Everything here works on a batch of B levels at once with array operations or numba kernels; a
task module builds its levels and dynamics from these pieces and holds only what makes it itself.

A level's state is a dict of numpy arrays with the batch on axis 0. Two keys are required:

    grid   (B, H, W, 3) uint8   object type, colour, state of every cell, without the agent
    agent  (B, 2) int64         the agent's (row, col)

Tasks add their own keys (inventories, NPC positions, flags). Row 0 is the top, as in Minigrid.

Rooms: `codes` (what a cell's three channels mean, actions), `rng` (counter-based randomness per
level seed), `jit` (kernels), `layout` (rooms, mazes, cell indices and writes), `search`
(batched breadth-first search), `step` (helpers for step kernels, the observation), `render`.
Task modules use them through this face: `from benchmark import grid as G`.
"""

from .codes import (  # noqa: F401
    SIZE, OBJECT_TO_IDX, COLOR_TO_IDX, STATE_TO_IDX, IDX_TO_OBJECT, IDX_TO_COLOR, ACTION_NAMES,
    MOVES, STAY, UNREACHABLE, cell, AGENT_CODE, blocking_table, passable_table,
)
from .rng import (  # noqa: F401
    splitmix64, splitmix64_one, step_uniform, stable_hash64, LevelRNG, scaled, scaled_one,
)
from .jit import (  # noqa: F401
    jit, engine_digest, drop_stale_kernel_cache,
)
from .layout import (  # noqa: F401
    batch_index, empty_room, maze_walls, maze_grid, walls_to_grid, place, is_type,
    level_offsets, cell_index, flat_index, same_cell, one_hot_cells, box_around, region_mask,
    put_cells, put_flat, put_from_table,
)
from .search import (  # noqa: F401
    pack_rows, unpack_rows, spread, distances, within, passable, on_a_shortest_path,
    apart_from_both, descend, grow, neighbour_counts,
)
from .step import (  # noqa: F401
    ANYWHERE, moved, move_agent, run_step, put_cell, copy_cell, inventory_rows,
    draw_inventory_row, observe, draw_agents,
)
from .render import (  # noqa: F401
    TILE, tile_table, render_rgb, TARGET_RGB, AGENT_PATH_RGB, OUTLINE, enlarge, outline_cells, draw_path,
)
