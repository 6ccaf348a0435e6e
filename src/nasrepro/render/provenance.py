"""The provenance page: where every number came from."""

from __future__ import annotations


from ..benchmark import Benchmark
from ..io import write_text
from ..runner import environment


def render_provenance(configfiles: dict[str, str], table_paths: list[str], unavailable: dict[str, str],
                      out) -> None:
    """Where every number came from: the config files (path -> sha256 as read when the run was planned), each benchmark's source files with their
    verified checksums, this environment's package versions, and what could not run here."""
    lines = ["# Provenance", "", "## Configuration", ""]
    lines += [f"- `{path}` (sha256 `{digest}`, as read when this run was planned)" for path, digest in configfiles.items()]
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
