# Two commands are the contract: `make repro` and `make test` (each sets up .venv if missing).
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
export PATH := $(abspath $(VENV)/bin):$(PATH)
STAMP   := $(VENV)/.ldd-installed
DATA    ?= ../shared/data/spider_t2space
SOURCE  ?= sample
JOBS    ?= 2

.PHONY: repro test lab study venv export bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# the CPU build of torch first, so nothing pulls a CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## make repro: the whole pipeline on the embedded default (synthetic phantom cohort)
repro: $(STAMP)
	$(BIN)/dvc repro

## make test: the notebooks' tests and the end-to-end tests
test: $(STAMP)
	$(BIN)/pytest -n $(JOBS) tests

## make study DATA=<root> [SOURCE=sample|spider|folder]: the whole pipeline with cross-validation, cpu profile,
## on real data; trained models stay in models/ for `ldd-study predict`, the report in reports/
study: $(STAMP)
	$(BIN)/dvc exp run -S data.source=$(SOURCE) -S data.root=$(abspath $(DATA)) -S profile=cpu -S cv.run=true -S cohort.seg_neighbours=1

## make lab: JupyterLab on nbs/
lab: $(STAMP)
	$(BIN)/jupyter lab nbs

## make export: regenerate ldd_study/ from nbs/ and strip notebook noise
export: $(STAMP)
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean

## make bench: the speed figures (bootstrap, training images/s, predict seconds per case)
bench: $(STAMP)
	$(BIN)/python tools/bench_stats.py
	$(BIN)/python tools/bench_train.py --profiles cpu
	$(BIN)/python tools/bench_predict.py --threads 1
