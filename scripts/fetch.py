from nasrepro import pipeline, smk
from nasrepro.sources import Source

smk.start(snakemake)
pipeline.fetch_source(Source(**snakemake.params.source), snakemake.output[0], snakemake.config.get("data", {}))
