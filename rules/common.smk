import sys

from nasrepro import config as nasrepro_config
from nasrepro.errors import NasReproError
from nasrepro.sources import SOURCES
from nasrepro.spaces import get_space

try:
    nasrepro_config.validate(config, source=" + ".join(map(str, workflow.configfiles)) or "config")
except NasReproError as error:
    sys.exit(f"Config error: {error}")

NASREPRO_THREADS = 1


wildcard_constraints:
    seed="0|[1-9][0-9]*",
    source="|".join(SOURCES),
    ext="csv|tfrecord",
    bench="|".join(config["benchmarks"]),
    method="|".join(config["methods"]),
    experiment="|".join(config["experiments"]),
    encoding="[a-z0-9]+",


def raw_files(bench):
    spec = config["benchmarks"][bench]
    return {s: f"resources/raw/{SOURCES[s].filename}" for s in get_space(spec["space"]).required_sources(spec)}


def search_inputs(wildcards):
    inputs = {"table": f"resources/tables/{wildcards.bench}.parquet"}
    if nasrepro_config.uses_features(config, wildcards.method):
        encoding = nasrepro_config.method_encoding(config, wildcards.method, wildcards.bench)
        inputs["features"] = f"resources/encodings/{wildcards.bench}-{encoding}.npy"
    return inputs


def experiment_runs(experiment):
    spec = config["experiments"][experiment]
    return [
        (bench, method, seed)
        for bench in spec["benchmarks"]
        for method in spec["methods"]
        for seed in nasrepro_config.seeds(spec)
    ]


def run_files(wildcards):
    return [f"results/runs/{wildcards.experiment}/{b}/{m}/{s}.parquet" for b, m, s in experiment_runs(wildcards.experiment)]


def search_needs_gpu(wildcards):
    return 1 if nasrepro_config.uses_features(config, wildcards.method) else 0


def all_outputs():
    outputs = []
    for name in nasrepro_config.enabled_experiments(config):
        spec = config["experiments"][name]
        requested = spec.get("outputs", [])
        if "table5" in requested:
            outputs += [f"results/{name}/table5.md", f"results/{name}/table5.csv"]
        if "table4" in requested:
            outputs += [f"results/{name}/table4.md", f"results/{name}/table4.csv"]
        if "convergence" in requested:
            outputs += [f"results/{name}/figures/convergence.png", f"results/{name}/figures/convergence.pdf"]
        if not requested:
            outputs.append(f"results/{name}/summary.parquet")
    return outputs
