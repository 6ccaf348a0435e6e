from nasrepro import smk
from nasrepro.render.provenance import render_provenance

smk.start(snakemake)
render_provenance(snakemake.params.configfiles, snakemake.input.tables, snakemake.params.unavailable, snakemake.output[0])
