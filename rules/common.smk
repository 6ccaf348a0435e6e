import dataclasses
import os
import re
import sys
from pathlib import Path

from nasrepro import config as nasrepro_config, cost as nasrepro_cost, plugins as nasrepro_plugins, runs as nasrepro_runs
from nasrepro.contract import runtime_minutes
from nasrepro.download import sha256_of
from nasrepro.errors import NasReproError
from nasrepro.io import check_intact, content_digest
from nasrepro.render import OUTPUTS, view as render_view
from nasrepro.render.escape import rst_text
from nasrepro.spaces import get_space

CONFIG_SOURCE = " + ".join(map(str, workflow.configfiles)) or "config"
# The config files as they were read for this plan: the provenance page records these, not a later edit.
CONFIG_DIGESTS = {str(path): sha256_of(Path(path)) for path in workflow.configfiles}
for configfile in workflow.configfiles:  # a user's module beside their config (jobs inherit NASREPRO_MODULE_PATH)
    nasrepro_plugins.add_module_folder(os.path.dirname(os.path.abspath(configfile)))
try:
    nasrepro_config.validate(nasrepro_config.prepare(config, workflow.basedir, CONFIG_SOURCE), source=CONFIG_SOURCE)
except NasReproError as error:
    sys.exit(f"Config error: {error}")
for notice in nasrepro_config.offline_notices(config):  # skipped experiments are named at the start
    print(notice, file=sys.stderr)
if workflow.is_main_process and not workflow.dryrun:  # one workflow at a time writes a results/ folder
    try:
        RUN_STORE_LOCK = nasrepro_runs.lock_store()  # held until this process ends
    except NasReproError as error:
        sys.exit(f"Lock error: {error}")
# Each distinct run once (results/runs/{run}/{seed}.*), shared by every experiment that asks for it.
PLAN = nasrepro_runs.plan(config)
try:  # a truncated table or encoding stops the workflow here, before any job (or deletion) is planned
    for path in nasrepro_runs.input_files(PLAN):
        if os.path.exists(path):
            check_intact(path)
except NasReproError as error:
    sys.exit(f"Input error: {error}")
if os.environ.get("NASREPRO_RENDER_ONLY"):  # `make render`: only what ran is rendered; a missing run is an error
    MISSING = nasrepro_runs.missing_runs(PLAN, nasrepro_config.enabled_experiments(config))
    if MISSING:
        sys.exit(f"Render error: {len(MISSING)} runs of this config are missing (first: {MISSING[0]}); run the "
                 "workflow (make reproduce / make quick ...) to make them, or render another config")
# The start line counts exactly the searches this invocation runs (`nasrepro.runs.pending`), as `nasrepro cost`.
print(nasrepro_cost.remaining(PLAN, nasrepro_config.runnable_experiments(config), workflow.resource_settings.cores),
      file=sys.stderr)

NASREPRO_THREADS = 1
# The public files the configured benchmarks' spaces declare, by name.
SOURCES = {name: source for bench in config["benchmarks"].values()
           for name, source in get_space(bench["space"]).benchmark_sources(bench).items()}


wildcard_constraints:
    seed="0|[1-9][0-9]*",
    source="|".join(map(re.escape, SOURCES)),
    ext="|".join({re.escape(source.filename.rpartition(".")[2]) for source in SOURCES.values()}),
    bench="|".join(config["benchmarks"]),
    run=nasrepro_runs.RUN_ID_PATTERN,
    experiment="|".join(config["experiments"]),
    encoding="[a-z0-9]+",


def raw_files(bench):
    spec = config["benchmarks"][bench]
    return {name: f"resources/raw/{source.filename}" for name, source in get_space(spec["space"]).benchmark_sources(spec).items()}


def source_identity(source):
    """What determines a fetched file: its URL, checksums and where a mirror keeps it (not its description)."""
    return {k: v for k, v in dataclasses.asdict(SOURCES[source]).items() if k != "description"}


# Each data product (table, encoding, label-free embedding) by its path: the checkpoint that makes it.
DATA_PRODUCTS = {
    "convert": re.compile(r"resources/tables/(?P<bench>[^/]+)\.parquet"),
    "encode": re.compile(r"resources/encodings/(?P<bench>[^/]+)-(?P<encoding>[a-z0-9]+)\.npy"),
    "pretrain": re.compile(r"resources/pretrained/(?P<name>[^/]+)\.npy"),
}


def data_input(path):
    """A data product as a consumer's input. Through its checkpoint: when it must be made (again), Snakemake
    plans its consumers anew once it is made, so no job below it is skipped unchecked. `ancient`: its
    content decides, not its time (the consumer's params hold its digest, `nasrepro.io.content_digest`)."""
    for name, pattern in DATA_PRODUCTS.items():
        match = pattern.fullmatch(path)
        if match:
            getattr(checkpoints, name).get(**match.groupdict())
            return ancient(path)
    raise ValueError(f"{path} is no data product")


def search_inputs(wildcards):
    """The table and encoding (or embedding) a run reads."""
    return {name: data_input(path) for name, path in nasrepro_runs.inputs(PLAN.runs[wildcards.run]).items()}


def search_spec(wildcards):
    """The search job's params: its run's spec, the digests of what it reads, a budget that never shortens
    the run on disk (`nasrepro.runs.job_spec`)."""
    return nasrepro_runs.job_spec(PLAN, wildcards.run, int(wildcards.seed))


def search_runtime(wildcards):
    """The search job's time limit in minutes, from its cost estimate (`nasrepro.contract.runtime_minutes`)."""
    return runtime_minutes(nasrepro_cost.run_seconds(PLAN.runs[wildcards.run].spec))


def table_digest(wildcards):
    return content_digest(f"resources/tables/{wildcards.bench}.parquet")


# Label-free pretraining outputs (arch2vec, CATE) the planned runs read, by path (rules/pretrain.smk).
PRETRAININGS = nasrepro_runs.pretrainings(PLAN)


def pretraining_of(wildcards):
    return PRETRAININGS[f"resources/pretrained/{wildcards.name}.npy"]


def run_files(wildcards):
    return PLAN.run_files(wildcards.experiment)


def search_needs_gpu(wildcards):
    return int(nasrepro_runs.wants_gpu(PLAN.runs[wildcards.run].spec))


def unavailable(experiment):
    """Why the experiment cannot run here (a benchmark file that no fetch can place), or None."""
    return nasrepro_config.unavailable(config, experiment)


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
    return rst_text(f"Experiment {experiment}: {spec.get('description', '')} Benchmarks: {', '.join(spec['benchmarks'])}. "
                    f"Methods: {methods}. {ran} The protocol lines at the top of each table name the splits, labels, "
                    "report modes and every method's options.")


def output_files(experiment):
    """The files the experiment's `outputs` name (`nasrepro.render.OUTPUTS`); where it cannot run here, only
    the tables the paper's values fill alone."""
    requested = [OUTPUTS[name] for name in config["experiments"][experiment].get("outputs", [])]
    if unavailable(experiment):
        requested = [output for output in requested if output.paper_only]
    files = [path for output in requested for path in output.files(experiment).values()]
    return files or [f"results/{experiment}/summary.parquet"]


def all_outputs():
    """Every output of the enabled experiments, and every file of their runs: a run deleted after its
    experiment was collected is made again (and collected again), never silently missing."""
    enabled = nasrepro_config.enabled_experiments(config)
    runs = [f for name in nasrepro_config.runnable_experiments(config) for f in PLAN.all_run_files(name)]
    return [f for name in enabled for f in output_files(name)] + sorted(set(runs)) + ["results/provenance.md"]


def embedding_inputs(wildcards):
    """The t-SNE of the encoding the experiment's first run reads, and the benchmark's table (true ranks)."""
    first = PLAN.uses[wildcards.experiment][0]
    bench, encoding = first.bench, PLAN.runs[first.run_id].spec["encoding"]
    return {"embedding": f"resources/tsne/{bench}-{encoding}.npy", "table": f"resources/tables/{bench}.parquet"}


def render_inputs(output):
    """A rendering rule's inputs: the collected runs (none where a paper table is rendered alone), the
    output's own extra inputs, and its code."""
    extra = {"embedding": embedding_inputs}.get(output.inputs)

    def inputs(wildcards):
        runs = {} if output.paper_only and unavailable(wildcards.experiment) else collected(wildcards.experiment)
        return {**runs, **(extra(wildcards) if extra else {})}

    return inputs


def render_outputs(output):
    """A rendering rule's files; the report shows a table's web page and CSV, a figure's PNG."""
    shown = {"table": ("html", "csv"), "figure": ("png",)}[output.kind]
    return {ext: report(path, caption="../report/output.rst", category=output.kind.capitalize() + "s",
                        subcategory=output.name, labels={"experiment": "{experiment}", "output": output.name, "format": ext})
            if ext in shown else path
            for ext, path in output.files("{experiment}").items()}
