"""Two learners on one machine: two clouds, two checks at once, no interference."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from workshop import course
from workshop.grading.runner import run_checks
from workshop.localcloud import control

MODULE = course.module("02")


@pytest.mark.slow
def test_two_checks_at_once_on_two_clouds_do_not_interfere(tmp_path):
    states = [tmp_path / "ada" / "cloud", tmp_path / "bob" / "cloud"]
    clouds = [control.up(state)[0] for state in states]
    try:
        assert clouds[0].port != clouds[1].port and clouds[0].pid != clouds[1].pid
        # the same stack prefix on purpose: the two learners' stacks live in different clouds
        trees = [MODULE.solution, MODULE.start]
        with ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda i: run_checks(MODULE, trees[i], cloud_url=clouds[i].url, stack_prefix="shop"),
                                 range(2)))
        assert runs[0].passed, [(v.id, v.message) for v in runs[0].verdicts]
        failing = {v.id for v in runs[1].verdicts if v.status != "pass"}
        assert failing == {c.id for c in MODULE.checkpoints if c.fails_at_start}
    finally:
        for state in states:
            control.down(state)
