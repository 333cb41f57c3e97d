"""KTAB-style probabilistic Condorcet election over PM candidates (a diagnostic).

KAPSARC's Toolkit for Agent-Based modelling (KTAB, MIT licence) scores a
contest between options a and b by the coalition strengths
``S[a:b] = sum_k max(v_k(a:b), 0)`` with votes ``v_k(a:b) = w_k * (u_k(a) - u_k(b))``
(linear vote rule, capability ``w_k`` = seats) and the victory probability
``S[a:b]**nu / (S[a:b]**nu + S[b:a]**nu)``.  The probability that each option
wins the whole field is the stationary distribution of the Markov chain that
moves from the current option to a challenger with the probability that the
challenger wins their pairwise contest (KTAB's Markov variant of its
probabilistic Condorcet election).

Why a diagnostic and not the mechanism: it ignores offices, reservation demands
and the formateur, so it says where preferences and capabilities point each
week, not when or whether a deal closes.
"""

from __future__ import annotations

import numpy as np


def pairwise_victory(utilities: np.ndarray, weights: np.ndarray, nu: float = 2.0) -> np.ndarray:
    """``P[a, b]`` = probability that candidate a beats b (utilities: actors x candidates)."""
    u = np.asarray(utilities, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = u.shape[1]
    p = np.full((n, n), 0.5)
    for a in range(n):
        for b in range(a + 1, n):
            v = w * (u[:, a] - u[:, b])
            sab = float(np.clip(v, 0, None).sum())
            sba = float(np.clip(-v, 0, None).sum())
            if sab + sba <= 0:
                continue
            pa = sab**nu / (sab**nu + sba**nu)
            p[a, b], p[b, a] = pa, 1.0 - pa
    return p


def condorcet_probabilities(utilities: np.ndarray, weights: np.ndarray, nu: float = 2.0) -> np.ndarray:
    """P(candidate wins) over the field, from the Markov chain of pairwise challenges."""
    p = pairwise_victory(utilities, weights, nu)
    n = p.shape[0]
    if n == 1:
        return np.ones(1)
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                m[i, j] = p[j, i] / (n - 1)  # from i, challenger j takes over
        m[i, i] = 1.0 - m[i].sum()
    # stationary distribution: left eigenvector for eigenvalue 1, by power iteration (deterministic)
    pi = np.full(n, 1.0 / n)
    for _ in range(500):
        new = pi @ m
        if np.abs(new - pi).max() < 1e-12:
            pi = new
            break
        pi = new
    return pi / pi.sum()
