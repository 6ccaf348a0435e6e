# One command each: `make reproduce` (config.yaml), `make quick` (minutes), `make smoke` (about a minute), `make test`,
# `make render`, `make report`.
# ARGS passes more Snakemake arguments, e.g. ARGS="--configfile config.yaml config/offline.yaml".
# Each creates the virtual environment $(VENV) on first use.
VENV ?= .venv
PYTHON ?= python3
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
SNAKEMAKE := $(BIN)/snakemake --cores all $(ARGS)
# The config arguments of the last successful `make reproduce` / `quick` / `smoke` / `nb201-cpu` / `baselines-cpu`:
# `make report` and `make render` then report on the run just made (a failed run leaves the previous one).
LAST_RUN := .nasrepro-last-run
LAST_CONFIG = $(shell cat $(LAST_RUN) 2>/dev/null)
# $(call preflight,SNAKEMAKE ARGUMENTS): refused in one line before Snakemake reads them: a config file that turns on
# Snakemake's YTE templating (`__use_yte__`, whose Python Snakemake would run before any check), --cores or --jobs 0
preflight = $(BIN)/nasrepro preflight $(1)
# $(call workflow,CONFIG ARGUMENTS): the workflow on a config, remembered in $(LAST_RUN) only once it succeeded
workflow = $(call preflight,--cores all $(ARGS) $(1)) && $(SNAKEMAKE) $(1) && echo "$(1)" > $(LAST_RUN)
NB201_CPU := --configfile config.yaml config/offline.yaml config/cpu-ablations.yaml
BASELINES_CPU := --configfile config.yaml config/offline.yaml config/cpu-baselines.yaml
# The rules that only render: `make render` may run these and nothing upstream (no search, no download).
RENDER_RULES = collect embed provenance render $(shell $(BIN)/python -c "from nasrepro.render import OUTPUTS; print(*('render_' + name for name in OUTPUTS))")

.PHONY: install cost reproduce quick smoke nb201-cpu baselines-cpu test test-fast render report lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[workflow,test]"
	touch $@

cost: install  # what a config's search jobs cost before they run: make cost ARGS="config.yaml config/offline.yaml"
	$(BIN)/nasrepro cost $(or $(ARGS),config.yaml)

reproduce: install
	$(call workflow,)

quick: install
	$(call workflow,--configfile config/quick.yaml)

smoke: install  # the whole workflow once, tiny (config/smoke.yaml): one table and one figure in results/smoke/
	$(call workflow,--configfile config/smoke.yaml)

nb201-cpu: install  # NAS-Bench-201 only, sized for a CPU (config/cpu-ablations.yaml states every reduction)
	$(call workflow,$(NB201_CPU))

baselines-cpu: install  # the paper's comparison on NAS-Bench-201 CIFAR-10, 20 seeds (config/cpu-baselines.yaml states every reduction)
	$(call workflow,$(BASELINES_CPU))

test: install
	$(BIN)/python -m pytest -ra --durations=10

test-fast: install  # the inner loop: everything but the end-to-end, real-SLURM and slow (full-config, workflow) tests
	$(BIN)/python -m pytest -ra --durations=10 -m "not e2e and not slurm and not slow"

render: install  # every table and figure again, from the runs already in results/runs
	$(call preflight,--cores all $(LAST_CONFIG) $(ARGS))
	NASREPRO_RENDER_ONLY=1 $(BIN)/snakemake render --cores all $(LAST_CONFIG) $(ARGS) --forcerun collect provenance --allowed-rules $(RENDER_RULES) --rerun-triggers mtime

report: install  # the report of the last run made with make (or of ARGS="--configfile ...")
	$(call preflight,--cores all $(LAST_CONFIG) $(ARGS))
	$(BIN)/snakemake --cores all $(LAST_CONFIG) $(ARGS) --report report.zip

lint: install
	$(call preflight,)
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs .snakemake/metadata
