from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.render_convergence(snakemake.params.config, snakemake.wildcards.experiment, snakemake.input.trajectories,
                            snakemake.output.png, snakemake.output.pdf, snakemake.output.csv)
