from nasrepro import smk
from nasrepro.figures.embedding import embed_space

smk.start(snakemake)
embed_space(snakemake.input.features, snakemake.output[0], snakemake.params.seed)
