"""The workflow's steps as plain functions: Snakemake scripts and the CLI both call these."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from . import analysis, config as cfg, encodings, figures
from .benchmark import Benchmark, write_table
from .download import fetch
from .io import atomic_path, write_json, write_parquet, write_text
from .runner import Budget, run_search
from .searchers.weaknas import APPROXIMATE_SAMPLING
from .sources import get_source
from .spaces import get_space

log = logging.getLogger(__name__)


def fetch_source(name: str, destination: str | Path, data: dict) -> None:
    origin = fetch(get_source(name), destination, mirror=data.get("mirror"),
                   retries=data.get("retries", 3), allow_download=data.get("allow_download", True))
    log.info("%s <- %s (checksum verified)", destination, origin)


def convert_benchmark(bench: dict, raw_files: dict[str, str], output: str | Path) -> None:
    table, meta = get_space(bench["space"]).convert(bench, {k: Path(v) for k, v in raw_files.items()})
    meta["sources"] = {name: {"file": str(path), **_checksums(name)} for name, path in raw_files.items()}
    write_table(table, meta, output)


def _checksums(name: str) -> dict:
    source = get_source(name)
    return {"url": source.url, "sha256": source.sha256, "git_blob": source.git_blob}


def encode_benchmark(table_path: str | Path, encoding: str, output: str | Path) -> None:
    benchmark = Benchmark.load(table_path)
    features = encodings.encode(benchmark.space, encoding, benchmark.table)
    with atomic_path(output) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, features)


def search(config: dict, experiment: str, bench: str, method: str, seed: int, table_path: str | Path,
           features_path: str | Path | None, trajectory_out, iterations_out, metadata_out, progress=True) -> None:
    benchmark = Benchmark.load(table_path)
    features = np.load(features_path) if features_path else None
    spec = config["experiments"][experiment]
    result = run_search(
        benchmark, features, cfg.searcher_spec(config, method, bench), seed,
        Budget.from_config(spec["budget"], benchmark.size),
        charge_repeats=spec.get("charge_repeats", True), label_mode=spec.get("label_mode", "avg"), progress=progress,
    )
    result.metadata.update(
        experiment=experiment, benchmark_name=bench, method_name=method,
        encoding=cfg.method_encoding(config, method, bench) if features_path else None,
        config={"experiment": spec, "benchmark": config["benchmarks"][bench], "method": config["methods"][method]},
    )
    write_parquet(result.trajectory, trajectory_out)
    write_parquet(result.iterations, iterations_out)
    write_json(result.metadata, metadata_out)
    log.info("%s/%s/%s seed %d: %d queries, optimum at %s, %.1fs", experiment, bench, method, seed,
             result.metadata["queries_used"], result.metadata["queries_to_optimum"], result.metadata["wall_seconds"])


def collect_runs(run_paths: list[str], keys: list[dict], summary_out, trajectories_out, iterations_out) -> None:
    for frame, out in zip(analysis.collect(run_paths, keys), (summary_out, trajectories_out, iterations_out)):
        write_parquet(frame, out)


def report_modes(spec: dict) -> dict[str, str]:
    """The report mode of each of the experiment's methods (`report_mode`, or `report_mode_by_method`)."""
    default = spec.get("report_mode", DEFAULT_REPORT_MODE)
    return {m: spec.get("report_mode_by_method", {}).get(m, default) for m in spec["methods"]}


def _modes_line(config: dict, modes: dict[str, str]) -> str:
    grouped: dict[str, list[str]] = {}
    for method, mode in modes.items():
        grouped.setdefault(mode, []).append(cfg.method_label(config, method))
    return "; ".join(f"found = {mode} for {', '.join(methods)} ({analysis.REPORT_MODES[mode]})"
                     for mode, methods in grouped.items())


DEFAULT_REPORT_MODE = "max_queried_or_pred1"


def render_table5(config: dict, experiment: str, summary_path, csv_out, md_out) -> None:
    summary = pd.read_parquet(summary_path)
    methods, benchmarks = config["methods"], config["benchmarks"]
    table = analysis.table5(
        summary,
        labels={m: cfg.method_label(config, m) for m in methods},
        paper_rows={m: spec.get("paper_row") for m, spec in methods.items()},
        paper_columns={b: spec.get("paper_column", b) for b, spec in benchmarks.items()},
    )
    with atomic_path(csv_out) as tmp:
        table.to_csv(tmp, index=False)
    spec = config["experiments"][experiment]
    seeds = cfg.seeds(spec)
    protocol = [
        f"Protocol: {len(seeds)} seeds per cell ({_seed_range(seeds)}); runs stop once the optimum is queried, "
        f"capped at {_caps(summary)}; a method that asks for an "
        f"architecture again is {'charged again' if spec.get('charge_repeats', True) else 'not charged'}; "
        f"queries are counted at the end of the batch that holds the optimum.",
        *[f"{cfg.method_label(config, m)}: {_options(config['methods'][m])}" for m in spec["methods"]],
    ]
    write_text(analysis.table5_markdown(table, f"Table 5 ({experiment}, {len(seeds)} seeds per cell)", protocol), md_out)


def render_budget_table(config: dict, experiment: str, name: str, summary_path, trajectories_path, iterations_path,
                        csv_out, md_out) -> None:
    """Accuracy of the architecture found at each of the experiment's budgets (the paper's Tables 1-4)."""
    summary, trajectories = pd.read_parquet(summary_path), pd.read_parquet(trajectories_path)
    spec = config["experiments"][experiment]
    modes = report_modes(spec)
    found = analysis.found_at_budgets(trajectories, pd.read_parquet(iterations_path), modes, spec["budgets"])
    methods, benchmarks = config["methods"], config["benchmarks"]
    table = analysis.budget_table(
        found,
        test_optimum=summary.groupby("benchmark")["test_optimum"].first().to_dict(),
        labels={m: cfg.method_label(config, m) for m in methods},
        paper_rows={m: entry.get("paper_row") for m, entry in methods.items()},
        paper_columns={b: entry.get("paper_column", b) for b, entry in benchmarks.items()},
        paper_table=name,
    )
    with atomic_path(csv_out) as tmp:
        table.to_csv(tmp, index=False)
    title = f"Table {name.removeprefix('table')} ({experiment}, {len(cfg.seeds(spec))} seeds per cell)"
    write_text(analysis.budget_table_markdown(table, title, _budget_protocol(config, spec, summary, modes)), md_out)


def _budget_protocol(config: dict, spec: dict, summary: pd.DataFrame, modes: dict[str, str]) -> list[str]:
    """The header lines of a budget table: seeds, labels, report modes, splits and every method's options."""
    seeds = cfg.seeds(spec)
    lines = [
        f"Protocol: {len(seeds)} seeds per cell ({_seed_range(seeds)}); one run of {spec['budget']['queries']} "
        f"queries per seed gives every budget's row; labels: {spec.get('label_mode', 'avg')}.",
        _modes_line(config, modes) + ".",
        *[f"{b}: fit on `{row['fit_split']}`, report `{row['test_split']}`. {row['label_note']}."
          for b, row in summary.groupby("benchmark").first().iterrows()],
        *[f"{cfg.method_label(config, m)}: {_options(cfg.method_options(config, m, spec['benchmarks'][0]))}"
          for m in spec["methods"]],
    ]
    if any(cfg.method_options(config, m, b).get("sampling") in APPROXIMATE_SAMPLING
           for m in spec["methods"] for b in spec["benchmarks"]):
        lines.append("Linear- and exponential-decay sampling exist in no released code: their rows are approximate "
                     "reproductions (rank-weighted draws, reference protocol §1.7).")
    return lines


def _caps(summary: pd.DataFrame) -> str:
    """The query caps the runs actually ran under (from their metadata), most common first."""
    counts = summary["budget_queries"].value_counts()
    if len(counts) == 1:
        return f"{counts.index[0]} queries"
    return ", ".join(f"{cap} queries for {n} runs" for cap, n in counts.items())


def _seed_range(seeds: list[int]) -> str:
    return f"seeds {seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else f"seeds {seeds}"


def _options(method: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in method.items() if k not in cfg.NON_SEARCHER_KEYS)


def render_convergence(config: dict, experiment: str, trajectories_path, iterations_path, png_out, pdf_out, csv_out,
                       panels: str = "benchmark") -> None:
    """Best test accuracy found vs queries. panels='benchmark': one panel per benchmark, one line per
    method; panels='predictor' (Figure 5): one panel per predictor type, one line per encoding."""
    trajectories = pd.read_parquet(trajectories_path)
    spec = config["experiments"][experiment]
    modes = report_modes(spec)
    grid = np.unique(np.geomspace(1, trajectories["query"].max(), 200).round().astype(int))
    curves = analysis.convergence(trajectories, pd.read_parquet(iterations_path), modes, grid)
    if panels == "predictor":
        curves, labels, titles = _by_predictor(config, curves)
    else:
        labels = {m: cfg.method_label(config, m) for m in config["methods"]}
        titles = {b: f"{b}\n({config['benchmarks'][b]['dataset']}, "
                     f"{'fit on test: no validation split' if config['benchmarks'][b]['fit_split'] == 'test' else 'fit on validation'})"
                  for b in spec["benchmarks"]}
    with atomic_path(csv_out) as tmp:
        curves.to_csv(tmp, index=False)
    budget = spec["budget"]
    stop = "until the optimum is queried" if budget.get("until_optimum") else f"for {budget['queries']} queries"
    found = ", ".join(sorted(set(modes.values())))
    caption = (f"{experiment}: runs {stop}; found = {found} (see the table's protocol lines); runs that stopped "
               f"keep their last value; mean ± SD over seeds")
    figures.convergence_figure(curves, labels, titles, caption, png_out, pdf_out)


def _by_predictor(config: dict, curves: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Curves re-keyed for Figure 5: panel = '<benchmark>, <predictor type>', line = encoding (the method's
    label where two methods of a panel share an encoding; methods without a predictor get their own panel)."""
    keys = {}
    for bench, method in curves[["benchmark", "method"]].drop_duplicates().itertuples(index=False):
        if cfg.uses_features(config, method):
            predictor = cfg.method_options(config, method, bench).get("predictor", {"type": "mlp"})["type"]
            keys[bench, method] = (f"{bench}, {predictor}", cfg.method_encoding(config, method, bench))
        else:
            keys[bench, method] = (f"{bench}, no predictor", cfg.method_label(config, method))
    shared = pd.Series(list(keys.values())).duplicated(keep=False).to_numpy()
    for (bench, method), clash in zip(list(keys), shared):
        if clash:
            keys[bench, method] = (keys[bench, method][0], cfg.method_label(config, method))
    rows = [keys[bench, method] for bench, method in zip(curves["benchmark"], curves["method"])]
    keyed = curves.assign(run_benchmark=curves["benchmark"], run_method=curves["method"],
                          benchmark=[r[0] for r in rows], method=[r[1] for r in rows])
    return keyed, {}, {}


def render_dynamics(config: dict, experiment: str, iterations_path, png_out, pdf_out, csv_out) -> None:
    """Figure 3: search dynamics per iteration (predicted top-1 rank, error EDF of the predicted top-200,
    P(top-50 in the pool), Kendall tau on the true top-50)."""
    iterations = pd.read_parquet(iterations_path)
    summary = figures.dynamics_figure(iterations, {m: cfg.method_label(config, m) for m in config["methods"]},
                                      f"{experiment}: mean over seeds per iteration", png_out, pdf_out)
    with atomic_path(csv_out) as tmp:
        summary.to_csv(tmp, index=False)
