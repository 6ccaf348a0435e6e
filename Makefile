# One command each: `make reproduce` (config.yaml), `make quick` (minutes), `make test`, `make report`.
# Each creates the virtual environment $(VENV) on first use.
VENV ?= .venv
PYTHON ?= python3
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
SNAKEMAKE := $(BIN)/snakemake --cores all

.PHONY: install reproduce quick test report lint clean

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
	$(BIN)/python -m pytest -ra

report: install
	$(SNAKEMAKE) --report report.zip

lint: install
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs .snakemake/metadata
