# Reproduce "Stronger NAS with Weaker Predictors" (WeakNAS, NeurIPS 2021) from raw benchmark data.
#   snakemake --cores all                                  the full reproduction (config.yaml)
#   snakemake --cores all --configfile config/quick.yaml   a few minutes on a laptop
import sys

from snakemake.utils import min_version

from nasrepro.config import read_yaml
from nasrepro.errors import NasReproError

min_version("8.20")


# A --configfile REPLACES config.yaml (an overlay that lays itself over it says so: `extends: config.yaml`),
# in the main process and in every cluster job alike: a job gets the same --configfiles but not
# --replace-workflow-config, so config.yaml is read only when no --configfile is given.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


try:  # Snakemake's YAML reader keeps the last of a key given twice; nasrepro's refuses it, naming the line
    for path in workflow.configfiles:
        read_yaml(path)
except NasReproError as error:
    sys.exit(f"Config error: {error}")
if workflow.resource_settings.cores is not None and workflow.resource_settings.cores < 1:
    sys.exit(f"Argument error: --cores {workflow.resource_settings.cores}: give at least 1 core, or all (with 0 "
             "Snakemake waits forever for a free core)")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/search.smk"
include: "rules/pretrain.smk"
include: "rules/report.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
