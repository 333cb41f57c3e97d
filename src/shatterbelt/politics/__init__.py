"""The politics layer (step 2 of the month loop): elections, government formation, apportionment, marginalization.

The engine calls these from its month loop; each is pure and deterministic
given the ``numpy.random.Generator`` passed in:

* :class:`PoliticsConfig` -- the scenario's politics section (``Scenario.politics``); a section
  on its own from :func:`load_politics` (built-in name or YAML path) or :func:`politics_from_dict`;
* :func:`hold_election` (seats by bloc from attachments and turnout),
  :func:`default_attachment` / :func:`default_turnout` (the 2010 electorate), :func:`allocate_seats`;
* :class:`FormationProcess` (``advance(days, violence_index)`` -> :class:`Government` or None);
* :func:`apportion`, :func:`portfolio_counts`;
* :func:`marginalization_hazard`, :func:`draw_marginalization`, :func:`apply_marginalization`;
* confessional rules (:mod:`.confessional`): :func:`elect_reserved` (seats reserved by confession
  within districts), :class:`OfficeElectionProcess` / :func:`run_office_election` (an office the
  chamber elects under a quorum).
"""

from __future__ import annotations

from ..scenario.loader import builtin_politics, load_politics, politics_from_dict, read_politics
from ..scenario.politics_schema import (
    APPORTION_METHODS,
    MIXED,
    NONPARTISAN,
    RULES,
    PoliticsConfig,
    check_politics,
)
from .apportion import Government, apportion, build_government, command_from, portfolio_counts
from .confessional import OfficeElectionProcess, OfficeOutcome, elect_reserved, run_office_election
from .elections import (
    SeatAllocation,
    allocate_seats,
    default_attachment,
    default_turnout,
    default_turnout_rate,
    hold_election,
    hold_election_lists,
    list_seats_to_blocs,
)
from .formation import FormationOutcome, FormationProcess, run_formation, run_formations, summarize
from .ktab import condorcet_probabilities
from .marginalization import (
    MarginalizationEvent,
    apply_marginalization,
    draw_marginalization,
    marginalization_hazard,
)

__all__ = [
    "APPORTION_METHODS",
    "MIXED",
    "NONPARTISAN",
    "RULES",
    "FormationOutcome",
    "FormationProcess",
    "Government",
    "MarginalizationEvent",
    "OfficeElectionProcess",
    "OfficeOutcome",
    "PoliticsConfig",
    "SeatAllocation",
    "allocate_seats",
    "apply_marginalization",
    "apportion",
    "build_government",
    "builtin_politics",
    "check_politics",
    "command_from",
    "condorcet_probabilities",
    "default_attachment",
    "default_turnout",
    "default_turnout_rate",
    "draw_marginalization",
    "elect_reserved",
    "hold_election",
    "hold_election_lists",
    "list_seats_to_blocs",
    "load_politics",
    "marginalization_hazard",
    "politics_from_dict",
    "portfolio_counts",
    "read_politics",
    "run_formation",
    "run_formations",
    "run_office_election",
    "summarize",
]
