from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.render_budget_table(snakemake.params.config, snakemake.wildcards.experiment, snakemake.wildcards.table,
                             snakemake.input.summary, snakemake.input.trajectories, snakemake.input.iterations,
                             snakemake.output.csv, snakemake.output.md)
