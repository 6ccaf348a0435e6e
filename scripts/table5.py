from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.render_table5(snakemake.params.config, snakemake.wildcards.experiment, snakemake.input.summary,
                       snakemake.output.csv, snakemake.output.md)
