"""The workflow's steps as plain functions: Snakemake scripts and the CLI both call these."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from . import config as cfg, download, encodings
from .benchmark import Benchmark, write_table
from .download import fetch
from .errors import NasReproError
from .io import atomic_path, write_json, write_parquet, write_text
from .runner import Budget, environment, run_search
from .sources import get_source
from .spaces import get_space

log = logging.getLogger(__name__)
# analysis and tables (scipy.stats), figures (matplotlib) and the WeakNAS module are imported by the
# rendering functions that use them: a search job (`search`) never loads them.


def fetch_source(name: str, destination: str | Path, data: dict) -> None:
    """Fetch a raw file (mirror or URL, checksum verified) and note where it came from beside it
    (`origin_note`), for the provenance page."""
    origin = fetch(get_source(name), destination, mirror=data.get("mirror"),
                   retries=data.get("retries", 3), allow_download=data.get("allow_download", True))
    write_text(f"{origin}\n", origin_note(destination))
    log.info("%s <- %s (checksum verified)", destination, origin)


def origin_note(raw_file: str | Path) -> Path:
    """The file beside a fetched raw file that says where it came from (the mirror path or the URL)."""
    raw_file = Path(raw_file)
    return raw_file.with_name(f".{raw_file.name}.origin")


def _origin(raw_file: str | Path) -> str:
    note = origin_note(raw_file)
    return note.read_text().strip() if note.is_file() else "placed by hand (not fetched by the workflow)"


def convert_benchmark(bench: dict, raw_files: dict[str, str], output: str | Path, verify: bool = False) -> None:
    """The canonical table from the raw files. `verify` (the workflow's `data.verify_raw`, default true
    there): each file is checked again against its pinned checksum first; the provenance says which."""
    verified = {name: download.reverify(path, get_source(name)) if verify else
                {"verified_when": "not re-verified before conversion (data.verify_raw: false, or a direct call)"}
                for name, path in raw_files.items()}
    table, meta = get_space(bench["space"]).convert(bench, {k: Path(v) for k, v in raw_files.items()})
    meta["sources"] = {name: {"file": str(path), "origin": _origin(path), **_checksums(name), **verified[name]}
                       for name, path in raw_files.items()}
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


def search(spec: dict, seed: int, names: dict, table_path: str | Path, features_path: str | Path | None,
           trajectory_out, iterations_out, metadata_out, progress=True) -> None:
    """One search job from its run specification (`config.run_spec`); `names` (experiment, benchmark and
    method names) only label the metadata."""
    if seed < 0:
        raise NasReproError(f"seed {seed} is negative: seeds are integers >= 0")
    benchmark = Benchmark.load(table_path)
    features = load_features(features_path) if features_path else None
    result = run_search(
        benchmark, features, spec["method"], seed, Budget.from_config(spec["budget"], benchmark.size),
        charge_repeats=spec["charge_repeats"], label_mode=spec["label_mode"], record_pools=spec["record_pools"],
        progress=progress,
    )
    result.metadata.update(names, encoding=spec["encoding"], config=spec)
    write_parquet(result.trajectory, trajectory_out)
    write_parquet(result.iterations, iterations_out)
    write_json(result.metadata, metadata_out)
    log.info("%s seed %d: %d queries, optimum at %s, %.1fs", " / ".join(names.values()), seed,
             result.metadata["queries_used"], result.metadata["queries_to_optimum"], result.metadata["wall_seconds"])


def load_features(path: str | Path) -> np.ndarray:
    """An encoding written by `encode_benchmark`; a truncated or foreign file is named in one line."""
    try:
        features = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise NasReproError(f"{path}: cannot read the encoding ({error}); delete it and rerun to re-encode") from None
    if not isinstance(features, np.ndarray) or features.ndim != 2 or not np.isfinite(features).all():
        raise NasReproError(f"{path}: not an encoding (a finite 2-D array); delete it and rerun to re-encode")
    return features


def collect_runs(run_paths: list[str], keys: list[dict], summary_out, trajectories_out, iterations_out) -> None:
    """The experiment's runs, tidy. If this fails, the experiment's tables and figures (made from the
    previous collection) are removed, so none outlives its inputs unnoticed; the error says so."""
    from . import analysis

    try:
        frames = analysis.collect(run_paths, keys)
    except Exception as error:
        removed = remove_stale_outputs(Path(summary_out).parent)
        if removed and isinstance(error, NasReproError):
            raise NasReproError(f"{error} (the {removed} tables and figures made from the previous runs of this "
                                f"experiment were removed from {Path(summary_out).parent})") from None
        raise
    for frame, out in zip(frames, (summary_out, trajectories_out, iterations_out)):
        write_parquet(frame, out)


def remove_stale_outputs(folder: Path) -> int:
    """Delete the tables and figures of an experiment folder whose aggregation failed; how many."""
    stale = [p for sub in ("tables", "figures") for p in (folder / sub).glob("*") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
        log.warning("removed stale %s (its experiment's collection failed)", path)
    return len(stale)


def report_modes(spec: dict) -> dict[str, str]:
    """The report mode of each of the experiment's methods (`report_mode`, or `report_mode_by_method`)."""
    default = spec.get("report_mode", DEFAULT_REPORT_MODE)
    return {m: spec.get("report_mode_by_method", {}).get(m, default) for m in spec["methods"]}


def _modes_line(config: dict, modes: dict[str, str]) -> str:
    from . import analysis

    grouped: dict[str, list[str]] = {}
    for method, mode in modes.items():
        grouped.setdefault(mode, []).append(cfg.method_label(config, method))
    return "; ".join(f"found = {mode} for {', '.join(methods)} ({analysis.REPORT_MODES[mode]})"
                     for mode, methods in grouped.items())


DEFAULT_REPORT_MODE = "max_queried_or_pred1"


PAPER_TABLES = {
    "table1": "Table 1: one strong predictor vs iterated weak predictors",
    "table2": "Table 2: exploration vs exploitation inside the Top-N",
    "table3": "Table 3: WeakNAS vs its BO variant (EI)",
    "table4": "Table 4: test accuracy found within fixed query budgets",
    "table5": "Table 5: queries until the global optimum is queried",
}
VERDICT_LINE = ("Verdict, against the WeakNAS paper's value: 'within paper SD' when |ours - paper| <= the paper's SD, "
                "'within our CI' when the paper's value lies in our 95% CI, 'too few seeds to judge' below 5 seeds; SD "
                "over seeds with ddof=1. 95% CI: a "
                "t interval of the mean for test accuracy; for regret, rank and query counts a bootstrap percentile "
                "interval of the mean (10,000 resamples, seed 0), which never leaves the values' range.")


def render_table(config: dict, experiment: str, table: str, runs: dict | None, csv_out, md_out, tex_out,
                 unavailable: str | None = None) -> None:
    """One of the paper's Tables 1-5 from an experiment's collected runs (`runs`: paths of its summary,
    trajectories and iterations), beside the paper's values. `unavailable`: why nothing could run
    (e.g. no NAS-Bench-101 data); the table then holds the paper's values and says so in one line."""
    from . import tables

    spec, methods = config["experiments"][experiment], config["methods"]
    rows = {m: entry.get("paper_row") for m, entry in methods.items()}
    columns = {b: config["benchmarks"][b].get("paper_column", b) for b in spec["benchmarks"]}
    labels = {m: cfg.method_label(config, m) for m in methods}
    if unavailable:
        cells = tables.compare(None, table, rows, columns, labels)
        lines = [f"Not run here: {unavailable}; only the paper's values are shown."]
        if cells.empty:
            lines.append(f"The paper prints {PAPER_TABLES[table].split(':')[0]} for other benchmarks only: "
                         "there is no cell to show.")
    else:
        summary = pd.read_parquet(runs["summary"])
        values = _cell_values(spec, table, summary, runs, report_modes(spec))
        cells = tables.compare(tables.summarize(values), table, rows, columns, labels)
        lines = _protocol(config, spec, table, summary) + [VERDICT_LINE]
        if cells["paper"].isna().all():
            lines.append(f"The paper prints {PAPER_TABLES[table].split(':')[0]} for other benchmarks only: "
                         "no cell here has a paper value.")
    lines += tables.citation_lines(cells)
    tables.write(cells, tables.display(cells), f"{PAPER_TABLES[table]} ({experiment})", lines, csv_out, md_out, tex_out)


def _cell_values(spec: dict, table: str, summary: pd.DataFrame, runs: dict, modes) -> pd.DataFrame:
    """Per run, the values of the table's cells: queries to the optimum (Table 5), or test accuracy,
    regret and rank of the architecture found at each budget (Tables 1-4)."""
    from . import analysis, tables

    if table == "table5":
        return tables.optimum_values(summary)
    found = analysis.found_at_budgets(pd.read_parquet(runs["trajectories"]), pd.read_parquet(runs["iterations"]),
                                      modes, spec["budgets"])
    return tables.budget_values(found, _test_optima(summary))


def _test_optima(summary: pd.DataFrame) -> dict[str, float]:
    return summary.groupby("benchmark")["test_optimum"].first().to_dict()


def render_fair(config: dict, experiment: str, runs: dict, csv_out, md_out, tex_out) -> None:
    """The fair-protocol companion of Tables 4 and 5: every method reports the test accuracy of its
    best queried architecture by fitting label (`test_of_best_valid`), and WeakNAS is tested against
    each other method with a two-sided Mann-Whitney U test over seeds."""
    from . import analysis, tables

    spec = config["experiments"][experiment]
    summary = pd.read_parquet(runs["summary"])
    table = "table5" if spec["budget"].get("until_optimum") else "table4"
    # a run to the optimum also gives the accuracy found within each budget of `budgets`, if any
    tables_shown = [table, "table4"] if table == "table5" and spec.get("budgets") else [table]
    values = pd.concat([_cell_values(spec, shown, summary, runs, "test_of_best_valid") for shown in tables_shown],
                       ignore_index=True)
    values = values[values["metric"].isin(["test_acc", "queries_to_optimum"])]
    reference = next((m for m in spec["methods"] if config["methods"][m].get("paper_row") == "WeakNAS"), spec["methods"][0])
    labels = {m: cfg.method_label(config, m) for m in config["methods"]}
    tests = tables.mann_whitney(values, reference)
    found = {"table5": "every method: queries are counted until the optimum is first queried (no predictor peek)",
             "table4": f"found = test_of_best_valid for every method ({analysis.REPORT_MODES['test_of_best_valid']}"
                       "; a run that stopped at the optimum keeps it)"}
    lines = [f"Fair protocol: {'; '.join(found[shown] for shown in tables_shown)}.",
             f"Two-sided Mann-Whitney U test of {labels[reference]} against each method over seeds "
             "(scipy.stats.mannwhitneyu); runs that never queried the optimum count as worse than every run that did.",
             *_protocol(config, spec, table, summary, own_report_modes=False)]
    title = f"Fair-protocol companion of {PAPER_TABLES[table].split(':')[0]} ({experiment})"
    tables.write(tests, tables.display_tests(tests, labels, reference), title, lines, csv_out, md_out, tex_out)


def _protocol(config: dict, spec: dict, table: str, summary: pd.DataFrame, own_report_modes: bool = True) -> list[str]:
    """What produced a table: seeds, stopping rule, labels, report modes (unless the table has its own, as
    the fair companion), splits, the optimum, every method's options, precision, hidden queries, cost."""
    seeds = cfg.seeds(spec)
    if table == "table5":
        stop = (f"runs stop once the optimum is queried, capped at {_caps(summary)}; a method that asks for an "
                f"architecture again is {'charged again' if spec.get('charge_repeats', True) else 'not charged'}; "
                "queries are counted at the end of the batch that holds the optimum")
        optimum = [f"{b}: the optimum is the argmax of the {'fitting' if target == 'fit' else 'test'} label."
                   for b, target in summary.groupby("benchmark", sort=False)["optimum_target"].first().items()]
        optimum += _censored_lines(summary)
        modes_line = []
    else:
        length = (f"to the optimum (capped at {_caps(summary)}; a run that stopped there keeps it)"
                  if spec["budget"].get("until_optimum") else f"of {spec['budget']['queries']} queries")
        stop = f"one run {length} per seed gives every budget's row"
        optimum = [f"Regret is measured from the best mean test accuracy of {b}: {value:.4f}%"
                   + _paper_optimum(config, b) + "." for b, value in _test_optima(summary).items()]
        modes_line = [_modes_line(config, report_modes(spec)) + "."] if own_report_modes else []
    return [
        f"Protocol: {len(seeds)} seeds per cell ({_seed_range(seeds)}); {stop}; labels: {spec.get('label_mode', 'avg')}.",
        *modes_line, *_split_lines(summary), *optimum,
        *[f"{cfg.method_label(config, m)}: {_options(cfg.searcher_spec(config, m, spec['benchmarks'][0]))}"
          for m in spec["methods"]],
        *_precision_line(config, spec),
        *_approximate_line(config, spec),
        *_hidden_lines(config, summary),
        _wall_time_line(config, summary),
    ]


def _hidden_lines(config: dict, summary: pd.DataFrame) -> list[str]:
    """The charged queries a method's authors leave uncounted (SemiNAS's pre-filter), per method."""
    from . import analysis

    hidden = analysis.hidden_queries(summary)
    return [f"{cfg.method_label(config, m)}: {runs.mean():.1f} queries per run on average "
            f"({runs.min():.0f}-{runs.max():.0f}) were discarded by the authors' filter; "
            "they are charged here and left out of the count its authors print."
            for m, runs in hidden[hidden > 0].groupby(summary["method"], sort=False)]


def _wall_time_line(config: dict, summary: pd.DataFrame) -> str:
    """What one run of each method cost: wall seconds per run (mean, min-max) and the device it ran on."""
    cost = summary.groupby("method", sort=False).agg(mean=("wall_seconds", "mean"), low=("wall_seconds", "min"),
                                                     high=("wall_seconds", "max"), device=("device", "first"))
    return "Wall time per run, seconds, mean (min-max), device: " + "; ".join(
        f"{cfg.method_label(config, m)} {row['mean']:.1f} ({row['low']:.1f}-{row['high']:.1f}), {row['device']}"
        for m, row in cost.iterrows()) + "."


def _precision_line(config: dict, spec: dict) -> list[str]:
    """The arithmetic precision each torch-trained predictor ran in (`precision`; fp32 where a predictor
    has no such option)."""
    bench = spec["benchmarks"][0]
    ran = {}
    for m in spec["methods"]:
        if cfg.needs_gpu(config, m, bench):
            options = cfg.resolved_options(config, m, bench)
            predictor = options.get("predictor")
            ran[cfg.method_label(config, m)] = (predictor.get("precision") if isinstance(predictor, dict) else None
                                                 ) or options.get("precision") or "fp32"
    if not ran:
        return []
    return ["Precision of the trained predictors (matrix products): "
            + "; ".join(f"{label} {precision}" for label, precision in ran.items()) + "."]


def _censored_lines(summary: pd.DataFrame) -> list[str]:
    """Table 5's censoring, stated: a run stopped by its cap has no value for its target (the `missing`
    column), and the other target's queries (summary.parquet) are censored at the run's stop."""
    lines = []
    for target in ("fit", "test"):
        column = f"queries_to_{target}_optimum"
        flags = summary.get(f"{column}_censored", summary[column].isna())
        censored, own = int(flags.sum()), summary["optimum_target"] == target
        if censored:
            lines.append(f"Censored: {column} is unknown (only > the queries used) in {censored} of {len(summary)} runs "
                         f"({int((flags & own).sum())} stopped by the cap before that optimum, "
                         f"{int((flags & ~own).sum())} stopped at the other optimum); such runs count under `missing`, "
                         f"never as a value.")
    return lines


def _paper_optimum(config: dict, bench: str) -> str:
    from . import tables

    paper = tables.paper_values()
    optimal = paper.loc[(paper["row"] == "Optimal") & (paper["benchmark"] == config["benchmarks"][bench].get("paper_column", bench)), "value"]
    return f" (paper: {optimal.iloc[0]:.2f}%)" if len(optimal) else ""


def _split_lines(summary: pd.DataFrame) -> list[str]:
    return [f"{b}: fit on `{row['fit_split']}`, report `{row['test_split']}`. {row['label_note']}."
            for b, row in summary.groupby("benchmark", sort=False).first().iterrows()]


def _approximate_line(config: dict, spec: dict) -> list[str]:
    from .searchers.weaknas import APPROXIMATE_SAMPLING

    if any(cfg.resolved_options(config, m, b).get("sampling") in APPROXIMATE_SAMPLING
           for m in spec["methods"] for b in spec["benchmarks"]):
        return ["Linear- and exponential-decay sampling exist in no released code: their rows are approximate "
                "reproductions (rank-weighted draws, reference protocol §1.7)."]
    return []


def _caps(summary: pd.DataFrame) -> str:
    """The query caps the runs actually ran under (from their metadata), most common first."""
    counts = summary["budget_queries"].value_counts()
    if len(counts) == 1:
        return f"{counts.index[0]} queries"
    return ", ".join(f"{cap} queries for {n} runs" for cap, n in counts.items())


def _seed_range(seeds: list[int]) -> str:
    return f"seeds {seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else f"seeds {seeds}"


def _options(method: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in method.items())


def render_convergence(config: dict, experiment: str, trajectories_path, iterations_path, png_out, pdf_out, csv_out,
                       panels: str = "benchmark") -> None:
    """Best test accuracy found vs queries. panels='benchmark': one panel per benchmark, one line per
    method; 'figure1': per method, the best queried architecture (monotone) and, dashed, its latest
    predictor's top-1; 'predictor' (Figure 5): one panel per predictor type, one line per encoding."""
    from . import analysis
    from .figures import curves as curve_plots

    trajectories = pd.read_parquet(trajectories_path)
    iterations = pd.read_parquet(iterations_path)
    spec = config["experiments"][experiment]
    modes = report_modes(spec)
    grid = np.unique(np.geomspace(1, trajectories["query"].max(), 200).round().astype(int))
    labels = {m: cfg.method_label(config, m) for m in config["methods"]}
    titles = {b: f"{b}\n({config['benchmarks'][b]['dataset']}, "
                 f"{'fit on test: no validation split' if config['benchmarks'][b]['fit_split'] == 'test' else 'fit on validation'})"
              for b in spec["benchmarks"]}
    styles = {}
    if panels == "figure1":
        curves, labels, styles = _best_and_top1(trajectories, iterations, labels, grid)
        modes = {m: "max_queried, pred1_only" for m in modes}
    else:
        curves = analysis.convergence(trajectories, iterations, modes, grid)
    if panels == "predictor":
        curves, labels, titles = _by_predictor(config, curves)
    with atomic_path(csv_out) as tmp:
        curves.to_csv(tmp, index=False)
    budget = spec["budget"]
    stop = "until the optimum is queried" if budget.get("until_optimum") else f"for {budget['queries']} queries"
    found = ", ".join(sorted(set(modes.values())))
    caption = (f"{experiment}: runs {stop}; found = {found} (see the table's protocol lines); runs that stopped "
               f"keep their last value; mean ± SD over seeds")
    curve_plots.convergence_figure(curves, labels, titles, caption, png_out, pdf_out, styles=styles,
                                   share_y=panels == "predictor")


def _best_and_top1(trajectories: pd.DataFrame, iterations: pd.DataFrame, labels: dict, grid: np.ndarray):
    """Figure 1's lines: per method the best queried architecture and, where the method fits a predictor,
    the latest predictor's top-1 (one colour per method, dashed for the top-1)."""
    from . import analysis

    best = analysis.convergence(trajectories, iterations, "max_queried", grid)
    top1 = analysis.convergence(trajectories, iterations, "pred1_only", grid).dropna(subset=["mean"])
    methods = list(dict.fromkeys(best["method"]))
    keyed = pd.concat([best.assign(line=best["method"] + ":best", kind="best queried"),
                       top1.assign(line=top1["method"] + ":top1", kind="predicted top-1")])
    curves = keyed.assign(run_method=keyed["method"], method=keyed["line"]).drop(columns="line")
    names, styles = {}, {}
    for line, method, kind in curves[["method", "run_method", "kind"]].drop_duplicates().itertuples(index=False):
        names[line] = f"{labels.get(method, method)}: {kind}"
        styles[line] = {"color": f"C{methods.index(method)}", "linestyle": "--" if kind == "predicted top-1" else "-"}
    return curves, names, styles


def _by_predictor(config: dict, curves: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Curves re-keyed for Figure 5: panel = one predictor type on one benchmark, line = encoding (the
    method's label where two methods of a panel share an encoding; methods without a predictor get their
    own panel). Returns the curves, line labels and panel titles."""
    from .predictors import predictor_class

    keys, titles = {}, {}
    for bench, method in curves[["benchmark", "method"]].drop_duplicates().itertuples(index=False):
        if cfg.uses_features(config, method, bench):
            predictor = cfg.resolved_options(config, method, bench)["predictor"]["type"]
            panel = f"{bench}, {predictor}"
            titles[panel] = f"{predictor_class(predictor).title or predictor} predictor\n({bench})"
            keys[bench, method] = (panel, cfg.method_encoding(config, method, bench))
        else:
            panel = f"{bench}, no predictor"
            titles[panel] = f"No predictor\n({bench})"
            keys[bench, method] = (panel, cfg.method_label(config, method))
    shared = pd.Series(list(keys.values())).duplicated(keep=False).to_numpy()
    for (bench, method), clash in zip(list(keys), shared):
        if clash:
            keys[bench, method] = (keys[bench, method][0], cfg.method_label(config, method))
    rows = [keys[bench, method] for bench, method in zip(curves["benchmark"], curves["method"])]
    keyed = curves.assign(run_benchmark=curves["benchmark"], run_method=curves["method"],
                          benchmark=[r[0] for r in rows], method=[r[1] for r in rows])
    return keyed, {}, titles


def render_dynamics(config: dict, experiment: str, iterations_path, png_out, pdf_out, csv_out) -> None:
    """Figure 3: search dynamics per iteration (predicted top-1 rank, error EDF of the predicted top-200,
    P(top-50 in the pool), Kendall tau on the true top-50)."""
    from .figures import dynamics as dynamics_plots

    iterations = pd.read_parquet(iterations_path)
    summary = dynamics_plots.dynamics_figure(iterations, {m: cfg.method_label(config, m) for m in config["methods"]},
                                             f"{experiment}: mean over seeds per iteration", png_out, pdf_out)
    with atomic_path(csv_out) as tmp:
        summary.to_csv(tmp, index=False)


def render_provenance(config: dict, configfiles: list[str], table_paths: list[str], unavailable: dict[str, str],
                      out) -> None:
    """Where every number came from: the config files, each benchmark's source files with their
    verified checksums, this environment's package versions, and what could not run here."""
    lines = ["# Provenance", "", "## Configuration", ""]
    lines += [f"- `{path}` (sha256 `{download.sha256_of(Path(path))}`)" for path in configfiles]
    lines += ["", "## Benchmark data (checksums verified when fetched and again before conversion)", ""]
    for path in table_paths:
        meta = Benchmark.read_meta(path)
        lines.append(f"- `{path}`: {meta.get('space')} {meta.get('dataset')}, fit on `{meta.get('fit_split')}`, "
                     f"report `{meta.get('test_split')}`")
        lines += [f"  - `{name}` (published at <{source['url']}>), fetched from {source.get('origin', 'an unrecorded place')}: "
                  + (f"sha256 `{source['sha256']}`" if source.get("sha256") else f"git blob `{source['git_blob']}`")
                  + (f", verified at fetch and again before conversion ({source['verified_at']})"
                     if source.get("verified_at") else f", {source.get('verified_when', 'verified at fetch only')}")
                  for name, source in meta.get("sources", {}).items()]
    env = environment()
    lines += ["", "## Software", "", f"- nasrepro at git commit {env['commit'] or 'unknown (not a git checkout)'}",
              f"- Python {env['python']} on {env['platform']}; device: {env['device']}"]
    lines += [f"- {package} {version}" for package, version in env["versions"].items()]
    lines += ["", "Each run's own metadata (`results/runs/.../<seed>.json`) records its versions, device, seed, "
              "configuration and wall time."]
    if unavailable:
        lines += ["", "## Not run here", ""] + [f"- `{name}`: {why}" for name, why in unavailable.items()]
    write_text("\n".join(lines) + "\n", out)
