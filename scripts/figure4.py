from nasrepro import smk
from nasrepro.figures.embedding import render_figure4

smk.start(snakemake)
out = snakemake.output
render_figure4(snakemake.params.config, snakemake.wildcards.experiment, snakemake.input.trajectories,
               snakemake.input.iterations, snakemake.input.embedding, snakemake.input.table, out.png, out.pdf, out.csv)
