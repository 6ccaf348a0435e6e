from nasrepro import smk
from nasrepro.render.embedding import embed_space

smk.start(snakemake)
embed_space(snakemake.input.features, snakemake.output[0], snakemake.params.seed)
