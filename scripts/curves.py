from nasrepro import pipeline, smk

smk.start(snakemake)
out = snakemake.output
pipeline.render_convergence(snakemake.params.config, snakemake.wildcards.experiment, snakemake.input.trajectories,
                            snakemake.input.iterations, out.png, out.pdf, out.csv, panels=snakemake.params.panels)
