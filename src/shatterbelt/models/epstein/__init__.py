"""Epstein's (2002) civil-violence models, as fast reference implementations.

Model I: citizens rebel against a central authority whose cops arrest them.
Model II: two groups whose actives kill members of the other group, with
cops acting as peacekeepers (they arrest actives of either group).

Reference: J. M. Epstein, "Modeling civil violence: An agent-based
computational approach", PNAS 99 suppl. 3 (2002) 7243-7250.

Why the switches exist.  The printed model leaves three choices open and the
well-known implementations made them differently, with large effects on the
dynamics (see ``docs/epstein.md``):

* ``discretisation`` of the cop-to-active ratio in ``P = 1 - exp(-k (C/A))``:
  ``floor`` (NetLogo's Rebellion; gives punctuated equilibrium), ``round``
  (Mesa, PR #2429; banker's rounding as Python's ``round``) or ``none``
  (the formula as printed, which gives a quiet system);
* ``neighbourhood`` of radius ``vision``: ``disc`` (Euclidean, NetLogo's
  ``in-radius``), ``von_neumann`` (Manhattan diamond, Mesa) or ``cross``;
* ``activation``: ``sequential`` (every agent acts in a fresh random order
  each step, seeing the moves of those before it, as Mesa's ``shuffle_do``)
  or ``simultaneous`` (everyone decides from the same snapshot; conflicts
  resolved by fixed rules; threaded in numba).

Everything random is a counter-based hash of ``(seed, stream, step, agent)``,
so a run is reproducible from its seed and identical on both back ends
(:func:`shatterbelt.backend.resolve_backend`: numba whenever it can be used,
else NumPy) and with any number of threads.

Modules: :mod:`.params` (parameters), :mod:`.rules` (neighbourhoods, the
arrest-probability table, decision ranks), :mod:`.state` (the state groups the
kernels take), :mod:`.sequential` and :mod:`.simultaneous` (the two
activations, each a numba kernel and its NumPy twin), :mod:`.grid`,
:mod:`.accel`, :mod:`.draws` and :mod:`._jit` (their building blocks),
:mod:`.sim` (:class:`EpsteinSim`, :func:`run_model`, :func:`run_model1`,
:func:`run_model2`) and
:mod:`.result` (:class:`EpsteinResult`).
"""

from __future__ import annotations

from .params import ACTIVATIONS, DISCRETISATIONS, NEIGHBOURHOODS, EpsteinParams
from .result import EpsteinResult
from .rules import arrest_probability_table, half_widths, neighbourhood_size, outburst_steps
from .sim import EpsteinSim, run_model, run_model1, run_model2

__all__ = [
    "ACTIVATIONS",
    "DISCRETISATIONS",
    "NEIGHBOURHOODS",
    "EpsteinParams",
    "EpsteinResult",
    "EpsteinSim",
    "arrest_probability_table",
    "half_widths",
    "neighbourhood_size",
    "outburst_steps",
    "run_model",
    "run_model1",
    "run_model2",
]
