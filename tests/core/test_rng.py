"""Counter-based randomness: SplitMix64 draws as pure functions of their coordinates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lepton_env import rng
from lepton_env.rng import Stream


def test_mix_is_the_splitmix64_finalizer() -> None:
    # Reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c): the finalizer
    # applied to 1, 2 and 3 times the golden gamma 0x9E3779B97F4A7C15
    gammas = np.arange(1, 4, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    expected = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert [int(v) for v in rng.mix(gammas)] == expected


def test_episode_key_offset_shifts_the_seed() -> None:
    assert rng.episode_key(np.array([7]), offset=3)[0] == rng.episode_key(np.array([10]))[0]
    assert rng.episode_key(np.array([7]))[0] != rng.episode_key(np.array([8]))[0]


def test_next_episode_keys_form_a_fresh_sequence() -> None:
    key = rng.episode_key(np.array([0]))
    chain = [int(key[0])]
    for _ in range(100):
        key = rng.next_episode_key(key)
        chain.append(int(key[0]))
    assert len(set(chain)) == len(chain)
    # the chain is a pure function of the first key
    again = rng.next_episode_key(rng.episode_key(np.array([0])))
    assert int(again[0]) == chain[1]


def test_draws_do_not_depend_on_the_batch() -> None:
    keys = rng.episode_key(np.arange(5))
    quarters = np.array([0, 3, 3, 9, 40], dtype=np.int32)
    batch = rng.uniform(keys, quarters, Stream.ENFORCEMENT, (4, 2))
    for row in range(5):
        alone = rng.uniform(
            keys[row : row + 1], quarters[row : row + 1], Stream.ENFORCEMENT, (4, 2)
        )
        np.testing.assert_array_equal(batch[row], alone[0])
    assert batch.shape == (5, 4, 2)


def test_streams_and_quarters_give_different_draws() -> None:
    keys = rng.episode_key(np.array([1]))
    zero = np.zeros(1, dtype=np.int32)
    base = rng.uniform(keys, zero, Stream.ENFORCEMENT, (8,))
    assert not np.array_equal(base, rng.uniform(keys, zero, Stream.PARTNER_FAILURE, (8,)))
    assert not np.array_equal(base, rng.uniform(keys, zero + 1, Stream.ENFORCEMENT, (8,)))
    np.testing.assert_array_equal(base, rng.uniform(keys, zero, Stream.ENFORCEMENT, (8,)))


def test_uniforms_are_uniform_on_the_unit_interval() -> None:
    keys = rng.episode_key(np.arange(4000))
    draws = rng.uniform(keys, np.zeros(4000, np.int32), Stream.WORLD, (5,)).ravel()
    assert draws.min() >= 0.0 and draws.max() < 1.0
    # 20000 draws: the mean's standard error is 0.29 / sqrt(20000) = 0.002
    assert draws.mean() == pytest.approx(0.5, abs=0.01)
    counts = np.histogram(draws, bins=10, range=(0.0, 1.0))[0]
    assert counts.min() > 1800 and counts.max() < 2200  # 2000 +- 4.7 sd


def test_normals_have_zero_mean_and_unit_variance() -> None:
    keys = rng.episode_key(np.arange(4000))
    draws = rng.normal(keys, np.zeros(4000, np.int32), Stream.WORLD, (5,)).ravel()
    assert np.all(np.isfinite(draws))
    assert draws.mean() == pytest.approx(0.0, abs=0.03)
    assert draws.std() == pytest.approx(1.0, abs=0.03)
    # P(|z| > 1.96) = 5%
    assert np.mean(np.abs(draws) > 1.96) == pytest.approx(0.05, abs=0.006)


def test_poisson_small_inverts_the_cdf_and_truncates_at_three() -> None:
    rate = 0.5
    cdf = np.cumsum([math.exp(-rate) * rate**n / math.factorial(n) for n in range(3)])
    # cdf = [0.60653, 0.90980, 0.98561]
    uniforms = np.array([0.0, cdf[0] - 1e-9, cdf[0], cdf[1] + 1e-9, cdf[2] + 1e-9, 1 - 1e-12])
    counts = rng.poisson_small(uniforms, np.full(6, rate))
    np.testing.assert_array_equal(counts, [0, 0, 1, 2, 3, 3])


def test_stream_keys_give_the_same_draws_as_their_coordinates() -> None:
    # the compiled quarter computes a stream's key once per env and quarter
    key, quarter, stream = np.uint64(0x1234ABCD), 7, int(rng.Stream.ENFORCEMENT)
    stream_key = rng.stream_key(key, quarter, stream)
    for index in range(5):
        assert rng.uniform_of(stream_key, index) == rng.uniform_at(key, quarter, stream, index)
        assert rng.normal_of(stream_key, index, 5) == rng.normal_at(key, quarter, stream, index, 5)


def test_poisson_small_given_its_zero_probability_equals_poisson_small() -> None:
    uniforms = np.linspace(0.0, 0.999, 50)
    for rate in (0.0, 0.05, 0.3, 1.5):
        np.testing.assert_array_equal(
            rng.poisson_small_given(uniforms, rate, np.exp(-rate)),
            rng.poisson_small(uniforms, np.full(50, rate)),
        )
