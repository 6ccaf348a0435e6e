from nasrepro import pipeline, smk

smk.start(snakemake)
out = snakemake.output
runs = {kind: snakemake.input[kind] for kind in ("summary", "trajectories", "iterations")}
pipeline.render_fair(snakemake.params.config, snakemake.wildcards.experiment, runs, out.csv, out.md, out.tex)
