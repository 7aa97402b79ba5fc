"""Minimum phone durations (alignment/builtin/durations.py): hand-computed projections and properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from visemes.alignment.builtin.durations import FLOOR, MIN_DURATION, enforce_min_durations, minimum_durations


def test_short_phone_borrows_equally_from_both_neighbours():
    # phones 0-100, 100-102, 102-200 ms; middle needs 20 ms -> its 18 ms deficit splits 9/9
    s, e = enforce_min_durations(np.array([0.0, 0.100, 0.102]), np.array([0.100, 0.102, 0.200]),
                                 np.array([0.02, 0.02, 0.02]), 1.0)
    np.testing.assert_allclose(s, [0.0, 0.091, 0.111], atol=1e-12)
    np.testing.assert_allclose(e, [0.091, 0.111, 0.200], atol=1e-12)


def test_neighbour_at_its_minimum_passes_the_deficit_on():
    # phone 1 (20 ms, min 20) cannot give; phone 2 (2 ms) needs 18: boundary 1|2 and 0|1 move together.
    # least squares over boundaries b1=0.100, b2=0.120, b3=0.122 (b0 and b4 free far away):
    # y = b - offsets (0, .02, .04) -> (0.100, 0.100, 0.082) -> pooled mean 0.094 -> b = .094, .114, .134
    s, e = enforce_min_durations(np.array([0.0, 0.100, 0.120, 0.122]), np.array([0.100, 0.120, 0.122, 0.300]),
                                 np.array([0.02, 0.02, 0.02, 0.02]), 1.0)
    np.testing.assert_allclose(s, [0.0, 0.094, 0.114, 0.134], atol=1e-12)
    np.testing.assert_allclose(e, [0.094, 0.114, 0.134, 0.300], atol=1e-12)


def test_silence_gap_is_used_and_bounds_hold():
    # a 4-ms phone after a silence gap and at the end of the file: it grows into the gap only
    s, e = enforce_min_durations(np.array([0.0, 0.150]), np.array([0.100, 0.154]), np.array([0.03, 0.03]), 0.155)
    assert e[1] <= 0.155 + 1e-12 and e[1] - s[1] >= 0.03 - 1e-12
    assert s[1] >= e[0]  # no overlap with the previous phone
    np.testing.assert_allclose([s[0], e[0]], [0.0, 0.100])  # untouched: the gap had room
    # least squares of the two moved boundaries with the end clipped at 0.155: start = 0.125
    np.testing.assert_allclose([s[1], e[1]], [0.125, 0.155], atol=1e-12)


def test_too_little_time_shrinks_minima_alike():
    s, e = enforce_min_durations(np.array([0.0, 0.001, 0.002]), np.array([0.001, 0.002, 0.045]),
                                 np.array([0.03, 0.02, 0.03]), 0.045)
    d = e - s
    assert np.all(d >= FLOOR - 1e-12) and np.all(np.diff(np.r_[s, e[-1]]) >= 0)
    np.testing.assert_allclose(e[-1], 0.045)


def test_class_minima_from_groups():
    np.testing.assert_allclose(minimum_durations(["a", "t", "s", "n", "l"]),
                               [MIN_DURATION["V"], MIN_DURATION["S"], MIN_DURATION["F"],
                                MIN_DURATION["N"], MIN_DURATION["L"]])
    assert min(MIN_DURATION.values()) >= FLOOR


@pytest.mark.parametrize("seed", range(20))
def test_random_timelines_keep_order_and_minima_and_are_least_squares(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 7))
    cuts = np.sort(rng.uniform(0, 1.0, 2 * n))
    s, e = cuts[0::2].copy(), cuts[1::2].copy()
    share = rng.random(n - 1) < 0.6  # some phones touch their neighbour
    e[:-1][share] = s[1:][share]
    minima = rng.choice([0.02, 0.03], n)
    s2, e2 = enforce_min_durations(s, e, minima, 1.0)
    assert np.all(e2 - s2 >= minima - 1e-9)
    assert np.all(s2[1:] >= e2[:-1] - 1e-12) and s2[0] >= 0 and e2[-1] <= 1.0 + 1e-12
    np.testing.assert_allclose(e2[:-1][share], s2[1:][share])
    # no feasible perturbation of the result along single boundaries lowers the squared moves
    cost = np.sum((s2 - s) ** 2) + np.sum((e2 - e) ** 2)
    for i, d in itertools.product(range(n), (-1e-4, 1e-4)):
        for which in ("s", "e"):
            s3, e3 = s2.copy(), e2.copy()
            (s3 if which == "s" else e3)[i] += d
            if which == "s" and i > 0 and share[i - 1]:
                e3[i - 1] = s3[i]
            if which == "e" and i < n - 1 and share[i]:
                s3[i + 1] = e3[i]
            ok = np.all(e3 - s3 >= minima - 1e-12) and np.all(s3[1:] >= e3[:-1] - 1e-12) and s3[0] >= 0 and e3[-1] <= 1
            if ok:
                assert np.sum((s3 - s) ** 2) + np.sum((e3 - e) ** 2) >= cost - 1e-12
