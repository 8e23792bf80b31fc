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
def test_every_publish_kill_point_converges_on_the_hub(tmp_path, hub):
    from .kill_harness import HUB_POINTS, on_hub

    state, prepare = on_hub(hub)
    env = {"COMMONS_TARGET": "hub", "HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_kill_harness_token"}
    outcomes = scenario_runs(tmp_path, HUB_POINTS, env=env, state=state, prepare=prepare)
    print(table(outcomes))
    assert [o for o in outcomes if not o.converged] == []
