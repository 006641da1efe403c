# Two commands are the contract: `make repro` and `make test` (each sets up .venv if missing).
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
export PATH := $(abspath $(VENV)/bin):$(PATH)
STAMP   := $(VENV)/.ldd-installed
DATA    ?=
SOURCE  ?= auto
JOBS    ?= 2

.PHONY: repro test lab study venv export bench docs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# the CPU build of torch first, so nothing pulls a CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## make repro: the whole pipeline on the embedded default (synthetic phantom cohort)
## (PATH above puts .venv/bin first: each dvc stage runs `ldd-study stage NAME`, which only the venv has; to call dvc
## yourself, `source .venv/bin/activate` first, or a stage stops with `ldd-study: command not found`)
repro: $(STAMP)
	$(BIN)/dvc repro

## make test: the notebooks' tests and the end-to-end tests
test: $(STAMP)
	$(BIN)/pytest -n $(JOBS) tests

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

## make lab: JupyterLab on nbs/
lab: $(STAMP)
	$(BIN)/jupyter lab nbs

## make docs: the docs site of nbs/ into _docs/ (mkdocs-material + mkdocs-jupyter, offline, notebooks not executed);
## open _docs/index.html (mkdocs.yml, tools/mkdocs_hooks.py)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build -q

## make export: regenerate ldd_study/ from nbs/ and strip notebook noise
export: $(STAMP)
	$(BIN)/nbdev-export
	$(BIN)/nbdev-clean

## make bench: the speed figures (bootstrap, training images/s, predict seconds per case and cases/s with 1 and 2 workers)
bench: $(STAMP)
	$(BIN)/python tools/bench_stats.py
	$(BIN)/python tools/bench_train.py --profiles cpu
	$(BIN)/python tools/bench_predict.py --threads 1
	$(BIN)/python tools/bench_predict.py --throughput --workers 1 2 --threads 1
