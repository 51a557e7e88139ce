"""Nouns that usually name a setting or a rating become objects when described: a grey square, a green star."""

from __future__ import annotations

import pytest

from clipaware.query import analyze


def _kinds(query: str) -> set[str]:
    return {lim.kind.value for lim in analyze(query).limitations}


@pytest.mark.parametrize(
    "query",
    ["a black triangle above a grey square", "a red triangle above a green star", "a moon below a star"],
)
def test_a_described_or_single_sky_or_ground_noun_is_an_object(query: str) -> None:
    assert "spatial" in _kinds(query)


@pytest.mark.parametrize(
    "query", ["camping under the stars", "a bird above the clouds", "a kite above the beach", "a market in the square"]
)
def test_the_setting_itself_is_still_a_setting(query: str) -> None:
    assert "spatial" not in _kinds(query)


@pytest.mark.parametrize("query", ["exactly three stars", "three red stars", "exactly two stars on a flag"])
def test_stars_that_are_drawn_are_counted(query: str) -> None:
    assert "counting" in _kinds(query)


@pytest.mark.parametrize("query", ["a 5 stars hotel", "hotel rated 4 stars", "a three star restaurant"])
def test_a_star_rating_is_not_a_count(query: str) -> None:
    assert "counting" not in _kinds(query)
