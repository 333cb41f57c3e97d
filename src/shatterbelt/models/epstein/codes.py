"""Codes and layout constants shared by the Epstein kernels (cell codes, agent kinds and states,
random streams, series columns, bit planes)."""

from __future__ import annotations

import numpy as np

# cell codes of the padded int8 grid
EMPTY = 0
COP = 1
JAILED = 2
QUIET_A = 3
ACTIVE_A = 4
QUIET_B = 5
ACTIVE_B = 6

# agent kinds (int8)
KIND_COP = 0
KIND_A = 1
KIND_B = 2

# citizen states (int8); cops stay QUIET
QUIET = 0
ACTIVE = 1
JAILED_ST = 2
DEAD = 3

# random streams: a draw is a hash of (seed, stream, step, agent)
S_PLACE = 1
S_GROUP = 2
S_HARD = 3
S_RISK = 4
S_ORDER = 5
S_MOVE = 6
S_ARREST = 7
S_JAIL = 8
S_KILL = 9
S_PRIO = 10

# movement: up to MAXTRY uniform probes of the neighbourhood for an empty cell
# (rejection sampling: exactly uniform over the empty cells), then an exact
# count-and-choose.  Draw j of agent i uses index i * RSTRIDE + j; the
# fallback uses j = RSTRIDE - 1.
MAXTRY = 12
RSTRIDE = 16

# software prefetch distance (agents ahead in the random order) of the sequential kernel
PF_FAR = 32

# bit planes of the numba sequential kernel (one bit per padded cell, NPL
# planes interleaved word by word so that the planes of a row segment are
# adjacent in memory).  Which codes belong to which plane depends on the model
# (Model I needs only actives, for the cops' choice of whom to arrest), so
# that most writes (a quiet citizen or a cop moving) toggle no plane at all.
NPL = 4
P_ACT_A, P_ACT_B, P_FREE_A, P_FREE_B = range(NPL)
PM_MODEL1 = np.array([0, 0, 0, 0, 1 << P_ACT_A, 0, 0], dtype=np.int64)
PM_MODEL2 = np.array(
    [
        0,  # EMPTY
        0,  # COP
        0,  # JAILED
        1 << P_FREE_A,  # QUIET_A
        (1 << P_ACT_A) | (1 << P_FREE_A),  # ACTIVE_A
        1 << P_FREE_B,  # QUIET_B
        (1 << P_ACT_B) | (1 << P_FREE_B),  # ACTIVE_B
    ],
    dtype=np.int64,
)

# per-step series columns
SERIES_COLUMNS = (
    "quiet",
    "active",
    "jailed",
    "dead",
    "active_a",
    "active_b",
    "alive_a",
    "alive_b",
    "killed_a",
    "killed_b",
    "arrests",
)
MODEL1_COLUMNS = ("quiet", "active", "jailed", "arrests")
C_QUIET, C_ACTIVE, C_JAILED, C_DEAD, C_ACT_A, C_ACT_B, C_ALIVE_A, C_ALIVE_B, C_KILL_A, C_KILL_B, C_ARREST = (
    range(11)
)
N_COLS = len(SERIES_COLUMNS)
