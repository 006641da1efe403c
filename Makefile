# Two commands are the contract: `make repro` and `make test` (each sets up .venv if missing).
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
export PATH := $(abspath $(VENV)/bin):$(PATH)
STAMP   := $(VENV)/.ldd-installed
DATA    ?=
SOURCE  ?= auto
JOBS    ?= 2

.PHONY: repro test lab study venv export bench docs lock test-order release-models

LOCK    := requirements.lock

# Every package at the exact version of requirements.lock (transitive ones included); the package itself without its
# dependencies, so pyproject's ranges (kept for `pip install ldd-study` users) never pull a newer release. Refresh the
# lock with `make lock`.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q "$$(grep '^pip==' $(LOCK))"
	# the CPU build of torch first, so nothing pulls a CUDA build
	$(BIN)/pip install -q "$$(grep '^torch==' $(LOCK))"
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	@touch $(STAMP)

venv: $(STAMP)

## make lock: resolve pyproject's ranges afresh in a throwaway venv (torch 2.13.0 CPU first) and write every installed
## version to requirements.lock; commit it, then `make test` (and `make study` to see whether the figures moved)
lock:
	rm -rf .lock-venv && $(PY) -m venv .lock-venv
	.lock-venv/bin/pip install -q --upgrade pip
	.lock-venv/bin/pip install -q torch==2.13.0
	.lock-venv/bin/pip install -q -e '.[dev]'
	{ echo "# Every dependency of ldd-study at an exact version, transitive ones included: what make installs."; \
	  echo "# Made by \`make lock\` ($$(.lock-venv/bin/python --version), $$(uname -m) Linux); pyproject.toml keeps the ranges."; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v '^ldd-study' | sed 's/^torch==\([0-9.]*\)+cpu$$/torch==\1/'; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK) && rm -rf .lock-venv

## make repro: the whole pipeline on the embedded default (synthetic phantom cohort)
## (PATH above puts .venv/bin first: each dvc stage runs `ldd-study stage NAME`, which only the venv has; to call dvc
## yourself, `source .venv/bin/activate` first, or a stage stops with `ldd-study: command not found`)
repro: $(STAMP)
	$(BIN)/dvc repro

## make test: ruff (the format, then the lint of pyproject's [tool.ruff]: notebooks, tests/, tools/), then the notebooks'
## tests and the end-to-end tests; `$(BIN)/ruff format .` and `$(BIN)/ruff check .` fix or show what a change broke
test: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(JOBS) tests

## make test-order [ORDER_SEED=n]: the same suite in a shuffled order (every test among all files, pytest-random-order),
## to catch a test that passes only after another; the seed is printed, and ORDER_SEED=n repeats that order
ORDER_SEED ?= $(shell python3 -c 'import random; print(random.randrange(10**6))')
test-order: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider -n $(JOBS) --random-order-bucket=global --random-order-seed=$(ORDER_SEED) tests

## make study [DATA=<root>] [SOURCE=auto|sample|spider|folder|lsma] [SERIES=<regex>] [PROFILE=cpu]: the whole pipeline with
## cross-validation on real data; with no DATA, the two-site study on both shared cohorts (params' data.cohorts under
## ../shared/data: SPIDER and LSMA, reported apart and pooled); with DATA, that one cohort (SOURCE auto: lsma where it
## holds boxes.csv, else sample). Trained models stay in models/ for `ldd-study predict`, the report in reports/.
## `dvc exp run -S` writes its settings into params.yaml, so the recipe keeps a copy of the tracked params.yaml and puts
## it back afterwards, pass or fail: no tracked file changes, and a later `make repro` runs the default again (it then
## retrains models/ and reports/ on the phantom: keep what you need first). The study's settings are written to
## reports/study.yaml and kept in the DVC experiment (`dvc exp show`). dvc.lock is not tracked (README, Reproducibility).
PROFILE ?= $(if $(DATA),cpu,cohorts)
SERIES  ?=
STUDY_SOURCE = $(if $(DATA),$(SOURCE),cohorts)
STUDY_ROOT   = $(if $(DATA),$(DATA),../shared/data)
STUDY_SET = data.source=$(STUDY_SOURCE) data.root=$(abspath $(STUDY_ROOT)) $(if $(SERIES),data.series=$(SERIES)) profile=$(PROFILE) \
            cv.run=true cohort.seg_neighbours=1
BACKUP  := .params.yaml.before-study
study: $(STAMP)
	@test ! -e $(BACKUP) || { echo "$(BACKUP) exists: an earlier make study was cut short before it put params.yaml back;" \
	  "'mv $(BACKUP) params.yaml' restores the tracked one" >&2; exit 1; }
	cp params.yaml $(BACKUP)
	@trap 'mv -f $(BACKUP) params.yaml' EXIT; trap 'exit 130' INT TERM; \
	echo "$(BIN)/dvc exp run $(addprefix -S ,$(STUDY_SET))"; \
	$(BIN)/dvc exp run $(addprefix -S ,$(STUDY_SET)) && \
	{ echo "# make study ran \`dvc exp run\` with these overrides of params.yaml (then put params.yaml back as it was)"; \
	  echo "# commit: $$(git rev-parse --short HEAD)$$(git diff --quiet HEAD -- . ':!params.yaml' || echo ' (with uncommitted changes)')"; \
	  echo "data.source: $(STUDY_SOURCE)"; echo "data.root: $(STUDY_ROOT)"; $(if $(SERIES),echo "data.series: $(SERIES)";) echo "profile: $(PROFILE)"; \
	  echo "cv.run: true"; echo "cohort.seg_neighbours: 1"; } > reports/study.yaml && \
	echo "make study: settings in reports/study.yaml; params.yaml put back as it was"

## make release-models: the release models (ldd_study/release: what `ldd-study predict` uses when no --model is given)
## trained with make study's settings on every patient of the three cohorts (no held-out set: `make study`'s CV measured
## the recipe), with release.json (hashes, version, commit) and MODEL_CARD.md (quoting reports/three_cohorts); ~8 min
RELEASE_SET = $(filter-out cv.run=true,$(STUDY_SET))
release-models: $(STAMP)
	$(BIN)/ldd-study release $(addprefix --set ,$(RELEASE_SET))

## make lab: JupyterLab on nbs/
lab: $(STAMP)
	$(BIN)/jupyter lab nbs

## make docs: the docs site of nbs/ into _docs/ (mkdocs-material + mkdocs-jupyter, offline, notebooks not executed);
## open _docs/index.html (mkdocs.yml, tools/mkdocs_hooks.py)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build -q

## make export: regenerate ldd_study/ from nbs/ (nbdev-export; tools/wrap_all.py keeps its `__all__` within 120
## columns) and strip notebook noise
export: $(STAMP)
	$(BIN)/nbdev-export
	$(BIN)/python tools/wrap_all.py ldd_study/*.py
	$(BIN)/nbdev-clean

## make bench: the speed figures (bootstrap, training images/s, predict seconds per case and cases/s with 1 and 2 workers)
bench: $(STAMP)
	$(BIN)/python tools/bench_stats.py
	$(BIN)/python tools/bench_train.py --profiles cpu
	$(BIN)/python tools/bench_predict.py --threads 1
	$(BIN)/python tools/bench_predict.py --throughput --workers 1 2 --threads 1
