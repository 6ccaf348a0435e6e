from nasrepro import smk
from nasrepro.io import stamp

smk.start(snakemake)
from nasrepro.searchers.pretrained import pretrain_file  # noqa: E402  (after the job's thread limit)

pretrain_file(snakemake.input.table, snakemake.params.spec, snakemake.output[0])
stamp(snakemake.output[0])
