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
    return int(nasrepro_config.needs_gpu(config, wildcards.method, wildcards.bench))


OUTPUT_FILES = {
    "table5": ["table5.md", "table5.csv"],
    **{f"table{k}": [f"table{k}.md", f"table{k}.csv"] for k in (1, 2, 3, 4)},
    "convergence": ["figures/convergence.png", "figures/convergence.pdf"],
    "figure5": ["figures/figure5.png", "figures/figure5.pdf"],
    "dynamics": ["figures/dynamics.png", "figures/dynamics.pdf"],
}


def all_outputs():
    outputs = []
    for name in nasrepro_config.enabled_experiments(config):
        requested = config["experiments"][name].get("outputs", [])
        outputs += [f"results/{name}/{file}" for output in requested for file in OUTPUT_FILES[output]]
        if not requested:
            outputs.append(f"results/{name}/summary.parquet")
    return outputs
