from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.encode_benchmark(snakemake.input[0], snakemake.wildcards.encoding, snakemake.output[0])
