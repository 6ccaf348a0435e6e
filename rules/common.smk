import os
import re
import sys

from nasrepro import config as nasrepro_config, runs as nasrepro_runs
from nasrepro.download import why_unavailable
from nasrepro.errors import NasReproError
from nasrepro.io import check_intact
from nasrepro.sources import SOURCES
from nasrepro.spaces import get_space

CONFIG_SOURCE = " + ".join(map(str, workflow.configfiles)) or "config"
try:
    nasrepro_config.validate(nasrepro_config.prepare(config, workflow.basedir, CONFIG_SOURCE), source=CONFIG_SOURCE)
except NasReproError as error:
    sys.exit(f"Config error: {error}")
for notice in nasrepro_config.offline_notices(config):  # skipped experiments are named at the start
    print(notice, file=sys.stderr)
# Each distinct run once (results/runs/{run}/{seed}.*), shared by every experiment that asks for it.
PLAN = nasrepro_runs.plan(config)
try:  # a truncated table or encoding stops the workflow here, before any job (or deletion) is planned
    for path in nasrepro_runs.input_files(PLAN):
        if os.path.exists(path):
            check_intact(path)
except NasReproError as error:
    sys.exit(f"Input error: {error}")

NASREPRO_THREADS = 1


wildcard_constraints:
    seed="0|[1-9][0-9]*",
    source="|".join(SOURCES),
    ext="csv|tfrecord",
    bench="|".join(config["benchmarks"]),
    run=nasrepro_runs.RUN_ID_PATTERN,
    experiment="|".join(config["experiments"]),
    encoding="[a-z0-9]+",


def raw_files(bench):
    spec = config["benchmarks"][bench]
    return {s: f"resources/raw/{SOURCES[s].filename}" for s in get_space(spec["space"]).required_sources(spec)}


def source_identity(source):
    """What determines a fetched file: its URL and checksum."""
    spec = SOURCES[source]
    return {"url": spec.url, "sha256": spec.sha256, "git_blob": spec.git_blob}


def search_inputs(wildcards):
    """The table and encoding a run reads; `ancient`: a file re-created or touched with the same content
    re-runs no search (what determines the content is in the run's identity, `nasrepro.runs`)."""
    return {name: ancient(path) for name, path in nasrepro_runs.inputs(PLAN.runs[wildcards.run]).items()}


def run_files(wildcards):
    return PLAN.run_files(wildcards.experiment)


def search_needs_gpu(wildcards):
    return int(nasrepro_runs.wants_gpu(PLAN.runs[wildcards.run].spec))


def unavailable(experiment):
    """Why the experiment cannot run here (a benchmark file that no fetch can place), or None."""
    data = config.get("data", {})
    for bench in config["experiments"][experiment]["benchmarks"]:
        for source, path in raw_files(bench).items():
            reason = why_unavailable(SOURCES[source], path, data.get("mirror"), data.get("allow_download", True))
            if reason:
                return f"{bench} needs {reason}"
    return None


def collected(experiment):
    """The experiment's collected runs, or nothing when it cannot run (its tables then show the paper alone)."""
    if unavailable(experiment):
        return {}
    return {kind: f"results/{experiment}/{kind}.parquet" for kind in ("summary", "trajectories", "iterations")}


def renderer(*modules):
    """A rendering rule's code as its inputs: editing one plot's module re-makes only that plot."""
    return [f"{workflow.basedir}/{module}" for module in modules]


def protocol_caption(experiment):
    """One paragraph for a report caption: what ran, with how many seeds, under which budget."""
    spec = config["experiments"][experiment]
    seeds = nasrepro_config.seeds(spec)
    budget = spec["budget"]
    stop = "until the global optimum is queried" if budget.get("until_optimum") else f"for {budget['queries']} queries"
    methods = ", ".join(nasrepro_config.method_label(config, m) for m in spec["methods"])
    reason = unavailable(experiment)
    ran = f"Not run here: {reason}." if reason else f"{len(seeds)} seeds per (benchmark, method), each run {stop}."
    return (f"Experiment ``{experiment}``: {spec.get('description', '')} Benchmarks: {', '.join(spec['benchmarks'])}. "
            f"Methods: {methods}. {ran} The protocol lines at the top of each table name the splits, labels, "
            f"report modes and every method's options.")


TABLE_OUTPUTS = ["table1", "table2", "table3", "table4", "table5", "fair"]
FIGURE_OUTPUTS = ["convergence", "figure1", "figure3", "figure4", "figure5"]


def output_files(experiment):
    """The files the experiment's `outputs` name; only its tables when it cannot run here."""
    requested = config["experiments"][experiment].get("outputs", [])
    if unavailable(experiment):
        requested = [o for o in requested if o != "fair" and o in TABLE_OUTPUTS]
    files = [f"results/{experiment}/tables/{o}.{ext}" for o in requested if o in TABLE_OUTPUTS for ext in ("csv", "md", "tex")]
    files += [f"results/{experiment}/figures/{o}.{ext}" for o in requested if o in FIGURE_OUTPUTS for ext in ("png", "pdf")]
    return files or [f"results/{experiment}/summary.parquet"]


def all_outputs():
    enabled = nasrepro_config.enabled_experiments(config)
    return [f for name in enabled for f in output_files(name)] + ["results/provenance.md"]


def figure4_inputs(wildcards):
    """The t-SNE of the encoding the experiment's first method reads, and the benchmark's table (true ranks)."""
    spec = config["experiments"][wildcards.experiment]
    bench, method = spec["benchmarks"][0], spec["methods"][0]
    encoding = nasrepro_config.method_encoding(config, method, bench)
    return {"embedding": f"resources/tsne/{bench}-{encoding}.npy", "table": f"resources/tables/{bench}.parquet"}


def figure_outputs(figure):
    """A figure rule's outputs: the PNG (in the report), the PDF and the plotted numbers as CSV."""
    return {
        "png": report(f"results/{{experiment}}/figures/{figure}.png", caption=f"../report/{figure}.rst", category="Figures", subcategory=figure, labels={"experiment": "{experiment}", "figure": figure}),
        "pdf": f"results/{{experiment}}/figures/{figure}.pdf",
        "csv": f"results/{{experiment}}/figures/{figure}.csv",
    }
