from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.render_table4(snakemake.params.config, snakemake.wildcards.experiment, snakemake.input.summary,
                       snakemake.input.trajectories, snakemake.output.csv, snakemake.output.md)
