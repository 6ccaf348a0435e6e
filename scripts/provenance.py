from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.render_provenance(snakemake.params.config, snakemake.params.configfiles, snakemake.input.tables,
                           snakemake.params.unavailable, snakemake.output[0])
