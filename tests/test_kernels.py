"""Property tests (hypothesis) for the array kernels the mechanisms are built on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shatterbelt.kernels import (
    connected_components,
    discrete_power_law,
    group_rank_select,
    hop_distances,
    select_in_cells,
)
from shatterbelt.population import cell_counts, largest_remainder
from shatterbelt.rng import Streams, stochastic_round, uniforms


@given(st.integers(0, 10_000), st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=30))
def test_largest_remainder_is_exact_and_close(total, weights):
    w = np.array(weights)
    out = largest_remainder(total, w)
    if w.sum() <= 0:
        assert out.sum() == 0
        return
    assert out.sum() == total
    assert (out >= 0).all()
    assert np.all(np.abs(out - total * w / w.sum()) < 1.0 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(1, 8), st.integers(0, 2**31))
def test_group_rank_select_matches_brute_force(n, groups, seed):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    u = rng.random(n)
    k = rng.integers(0, 6, groups)
    got = set(group_rank_select(g, u, k).tolist())
    want = set()
    for gi in range(groups):
        idx = np.flatnonzero(g == gi)
        want |= set(idx[np.argsort(u[idx])][: k[gi]].tolist())
    assert got == want


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 6), st.integers(0, 2**31))
def test_select_in_cells_equals_full_sort(n, cells, seed):
    rng = np.random.default_rng(seed)
    cell = rng.integers(-1, cells, n)
    n_per = np.bincount(cell[cell >= 0], minlength=cells)
    k = np.minimum(rng.integers(0, 40, cells), n_per)
    key = int(rng.integers(0, 2**62))
    sel = select_in_cells(cell, k, n_per, lambda i: uniforms(key, i))
    assert len(set(sel.tolist())) == len(sel) == int(k.sum())
    u = uniforms(key, np.arange(n))
    for c in range(cells):
        idx = np.flatnonzero(cell == c)
        want = set(idx[np.argsort(u[idx])][: k[c]].tolist())
        assert set(sel[cell[sel] == c].tolist()) == want


@given(st.floats(0, 1e6, allow_nan=False))
def test_stochastic_round_brackets(x):
    out = stochastic_round(np.array([x]), np.array([0.5]))[0]
    assert np.floor(x) <= out <= np.floor(x) + 1


def test_stochastic_round_is_unbiased():
    x = np.full(200_000, 2.3)
    u = np.random.default_rng(0).random(x.size)
    assert abs(stochastic_round(x, u).mean() - 2.3) < 0.01


@settings(max_examples=30, deadline=None)
@given(st.floats(1.5, 3.5), st.integers(1, 5), st.integers(6, 500), st.integers(0, 1000))
def test_power_law_support(alpha, xmin, xmax, seed):
    x = discrete_power_law(np.random.default_rng(seed), alpha, xmin, xmax, 500)
    assert x.min() >= xmin and x.max() <= xmax


def test_power_law_tail_exponent():
    x = discrete_power_law(np.random.default_rng(1), 2.5, 1, 10_000, 400_000)
    # P(X >= 10) / P(X >= 100) ~ 10**(alpha - 1) for a discrete power law
    ratio = (x >= 10).mean() / (x >= 100).mean()
    assert 10**1.35 < ratio < 10**1.65


def test_uniforms_are_stateless_and_uniform():
    idx = np.arange(100_000)
    a = uniforms(123, idx)
    b = uniforms(123, idx[::-1])[::-1]
    assert np.array_equal(a, b), "an agent's number must not depend on who else is drawn"
    assert 0 <= a.min() and a.max() < 1
    assert abs(a.mean() - 0.5) < 0.005
    assert not np.array_equal(a, uniforms(124, idx))
    s = Streams(7)
    assert np.array_equal(s.agent_uniforms("x", 3, idx[:10]), Streams(7).agent_uniforms("x", 3, idx[:10]))
    g1, g2 = s.generator("y", 1).random(5), Streams(7).generator("y", 1).random(5)
    assert np.array_equal(g1, g2)


def test_graph_helpers():
    adj = np.zeros((5, 5), bool)
    for a, b in [(0, 1), (1, 2), (3, 4)]:
        adj[a, b] = adj[b, a] = True
    assert connected_components(adj, np.array([1, 1, 1, 1, 1], bool)) == 2
    assert connected_components(adj, np.array([1, 0, 1, 0, 0], bool)) == 2
    assert connected_components(adj, np.zeros(5, bool)) == 0
    d = hop_distances(adj)
    assert d[0, 2] == 2 and d[0, 3] >= 10_000


@given(st.floats(0.001, 1.0))
def test_cell_counts_match_rounded_region_totals(scale):
    pops = np.array([1_521_829, 6_878_039, 700_818])
    shares = np.array([[0.05, 0.95], [0.7, 0.3], [0.98, 0.02]])
    c = cell_counts(pops, shares, scale)
    assert np.array_equal(c.sum(1), np.floor(pops * scale + 0.5).astype(int))
