# Reproduce "Stronger NAS with Weaker Predictors" (WeakNAS, NeurIPS 2021) from raw benchmark data.
#   snakemake --cores all                                  the full reproduction (config.yaml)
#   snakemake --cores all --configfile config/quick.yaml   a few minutes on a laptop
from snakemake.utils import min_version

min_version("8.20")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/search.smk"
include: "rules/report.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
