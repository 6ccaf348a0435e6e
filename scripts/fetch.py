from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.fetch_source(snakemake.wildcards.source, snakemake.output[0], snakemake.config.get("data", {}))
