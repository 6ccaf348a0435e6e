from nasrepro import render, smk

smk.start(snakemake)
runs = {kind: snakemake.input[kind] for kind in ("summary", "trajectories", "iterations") if kind in snakemake.input.keys()}
extra = {name: snakemake.input[name] for name in ("embedding", "table") if name in snakemake.input.keys()}
render.render(snakemake.params.output, snakemake.params.view, runs or None, dict(snakemake.output.items()),
              **extra, **snakemake.params.extra)
