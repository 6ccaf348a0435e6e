"""Which finished run serves which budget (`runs.covers`), and the budget a shared run is extended to."""

from nasrepro.runs import covering_budget, covers, extended


def record(used, budget, found=None, stopped_by="budget", cap=None):
    return {"queries_used": used, "stopped_by": stopped_by, "queries_to_fit_optimum": found,
            "config": {"budget": budget}, "budget": {"queries": cap or budget.get("queries", 15625)}}


def test_a_longer_run_serves_a_shorter_budget_and_not_the_reverse():
    assert covers(record(40, {"queries": 40}), {"queries": 30})
    assert not covers(record(30, {"queries": 30}), {"queries": 40})


def test_a_run_to_the_optimum_serves_budgets_up_to_where_it_stopped():
    run = record(120, {"until_optimum": True, "optimum": ["fit"]}, found=120, stopped_by="optimum")
    assert covers(run, {"queries": 100}) and covers(run, {"until_optimum": True, "optimum": ["fit"]})
    assert not covers(run, {"queries": 200})


def test_an_uncapped_run_that_spent_its_whole_space_covers_an_uncapped_budget():
    spent = record(4096, {"until_optimum": True, "optimum": ["fit"]}, cap=4096)  # R-EA pays again for re-visits
    assert covers(spent, {"until_optimum": True, "optimum": ["fit"]})
    capped = record(60, {"until_optimum": True, "queries": 60})
    assert not covers(capped, {"until_optimum": True, "optimum": ["fit"]})


def test_a_run_that_does_not_cover_is_extended_to_cover_both():
    run = record(50, {"queries": 50})
    budget, pools = extended(run, {"until_optimum": True, "optimum": ["fit"]}, False)
    assert budget == {"until_optimum": True, "optimum": ["fit"], "min_queries": 50} and not pools
    assert extended(record(50, {"queries": 50}), {"queries": 20}, False) == ({"queries": 50}, False)
    assert covering_budget([{"queries": 40}, {"until_optimum": True, "queries": 60}])["min_queries"] == 40
