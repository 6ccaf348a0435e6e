from nasrepro import pipeline, smk

smk.start(snakemake)
out = snakemake.output
runs = {kind: snakemake.input[kind] for kind in ("summary", "trajectories", "iterations") if kind in snakemake.input.keys()}
pipeline.render_table(snakemake.params.config, snakemake.wildcards.experiment, snakemake.wildcards.table, runs or None,
                      out.csv, out.md, out.tex, unavailable=snakemake.params.unavailable)
