"""SIGKILL at every stage boundary and inside each stage; the next run converges to what a clean run publishes."""

import pytest

from commons_pipelines.faults import POINTS

from .kill_harness import LOCAL_POINTS, scenario_runs, table


@pytest.mark.slow
def test_every_kill_point_converges_to_a_clean_run_local_target(tmp_path):
    outcomes = scenario_runs(tmp_path, LOCAL_POINTS)
    print(table(outcomes))
    assert {o.point for o in outcomes} == set(POINTS) - {"publish.uploaded"}
    assert [o for o in outcomes if not o.converged] == []


@pytest.fixture
def hub():
    from .hub_emulator import serve

    yield from serve(tokens={"hf_kill_harness_token": "commons-pipelines"})


@pytest.mark.slow
def test_the_hub_s_own_kill_points_converge(tmp_path, hub):
    """Killed with files uploaded and no commit, or with a commit and no tag: the states only the Hub has. A kill
    before the target is touched or after the version is live is the local matrix's; `benchmarks/faults.py` runs
    every publish point (HUB_POINTS) on the Hub as well."""
    from .kill_harness import on_hub

    state, prepare = on_hub(hub)
    env = {"COMMONS_TARGET": "hub", "HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_kill_harness_token"}
    outcomes = scenario_runs(tmp_path, ["publish.uploaded", "publish.committed"], env=env, state=state,
                             prepare=prepare)
    print(table(outcomes))
    assert [o for o in outcomes if not o.converged] == []
