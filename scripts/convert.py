from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.convert_benchmark(snakemake.params.bench, dict(snakemake.input.items()), snakemake.output[0],
                           verify=snakemake.config.get("data", {}).get("verify_raw", True))
