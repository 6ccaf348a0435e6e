"""What the workflow asks of a validated config: the enabled experiments, seeds, labels, jobs, notices."""

from __future__ import annotations

from pathlib import Path

from ..spaces import get_space

RAW_FILE = "resources/raw/{filename}"  # where `fetch` places a benchmark file (rules/common.smk, cli)


def seeds(experiment: dict) -> list[int]:
    value = experiment["seeds"]
    return list(range(value)) if isinstance(value, int) else list(value)


def method_label(config: dict, method: str) -> str:
    return config["methods"][method].get("label", method)


def enabled_experiments(config: dict) -> list[str]:
    """The experiments the default target runs: those `run` names, else every one not disabled."""
    if "run" in config:
        return list(config["run"])
    return [name for name, spec in config["experiments"].items() if spec.get("enabled", True)]


def jobs(config: dict) -> list[tuple[str, str, str, int]]:
    """Every (experiment, benchmark, method, seed) search job."""
    return [
        (name, bench, method, seed)
        for name, experiment in config["experiments"].items() if name in enabled_experiments(config)
        for bench in experiment["benchmarks"]
        for method in experiment["methods"]
        for seed in seeds(experiment)
    ]


def unavailable(config: dict, experiment: str) -> str | None:
    """Why the experiment cannot run here (a benchmark file that no fetch can place: not in resources/raw/,
    not in the mirror, downloads off), or None."""
    from ..download import why_unavailable

    data = config.get("data", {})
    for bench in config["experiments"][experiment]["benchmarks"]:
        spec = config["benchmarks"][bench]
        for source in get_space(spec["space"]).benchmark_sources(spec).values():
            reason = why_unavailable(source, RAW_FILE.format(filename=source.filename), data.get("mirror"),
                                     data.get("allow_download", True))
            if reason:
                return f"{bench}: {reason}"
    return None


def runnable_experiments(config: dict) -> list[str]:
    """The enabled experiments that can run here (`unavailable`): those whose searches the workflow plans."""
    return [name for name in enabled_experiments(config) if not unavailable(config, name)]


def offline_notices(config: dict) -> list[str]:
    """One line per experiment of the default target that a benchmark file keeps from running as configured:
    the file is neither in resources/raw/ nor in the mirror (with a mirror configured, or downloads off).
    For the terminal at workflow start (`rules/common.smk`), so that nothing is skipped unannounced."""
    from ..download import resolve_mirror

    data = config.get("data", {})
    mirror, downloads = resolve_mirror(data.get("mirror")), data.get("allow_download", True)
    if mirror is None and downloads:
        return []  # online without a mirror: every file is downloaded
    lines = []
    for name in enabled_experiments(config):
        for bench in config["experiments"][name]["benchmarks"]:
            spec = config["benchmarks"][bench]
            sources = get_space(spec["space"]).benchmark_sources(spec).values()
            missing = [s for s in sources if not Path(RAW_FILE.format(filename=s.filename)).is_file()
                       and not (mirror is not None and (mirror / s.mirror_path).is_file())]
            if not missing:
                continue
            where = f"which is not in the mirror {mirror}" if mirror is not None else "and no mirror is configured"
            lines.append(f"nasrepro: experiment {name!r}: {bench} needs {missing[0].mirror_path}, {where}: " + (
                "it will be downloaded (offline, add the overlay config/offline.yaml)" if downloads else
                "downloads are off, so it is not run and its tables show the paper's values alone (overlay: "
                "config/offline.yaml)"))
            break
    return lines
