# One command each: `make reproduce` (config.yaml), `make quick` (minutes), `make test`, `make render`, `make report`.
# ARGS passes more Snakemake arguments, e.g. ARGS="--configfile config.yaml config/offline.yaml".
# Each creates the virtual environment $(VENV) on first use.
VENV ?= .venv
PYTHON ?= python3
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
SNAKEMAKE := $(BIN)/snakemake --cores all $(ARGS)
# The rules that only render: `make render` may run these and nothing upstream (no search, no download).
RENDER_RULES := collect table fair convergence figure1 figure3 figure4 figure5 embed provenance render

.PHONY: install reproduce quick test render report lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[workflow,test]"
	touch $@

reproduce: install
	$(SNAKEMAKE)

quick: install
	$(SNAKEMAKE) --configfile config/quick.yaml

test: install
	$(BIN)/python -m pytest -ra --durations=10

render: install  # every table and figure again, from the runs already in results/runs
	$(BIN)/snakemake render --cores all $(ARGS) --forcerun collect provenance --allowed-rules $(RENDER_RULES) --rerun-triggers mtime

report: install
	$(SNAKEMAKE) --report report.zip

lint: install
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs .snakemake/metadata
