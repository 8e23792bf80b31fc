# Two commands do all set-up on a fresh clone: `make run` and `make test`. Only Python 3.11+, make and git needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.9
# uv installs the pinned packages in parallel where pip installs one after another (a fresh install 61 -> 34-40 s here,
# see README), from the indexes pip is set up with: uv reads neither pip.conf nor PIP_* variables, UV_INSTALL hands
# them over
UV_INSTALL = $(BIN)/python -c "$$PIP_TO_UV" $(BIN)/uv pip install --python $(BIN)/python
define PIP_TO_UV
import ast, os, subprocess, sys
listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
found = {}
for line in listed.splitlines():
    key, _, value = line.partition("=")
    option = key.rsplit(".", 1)[-1]
    if option in ("index-url", "extra-index-url", "find-links", "cert", "no-index"):
        found.setdefault(option, {})[key.startswith(":env:")] = ast.literal_eval(value).split()
args = [f"--{o}={v}" for o in ("extra-index-url", "find-links") for vs in found.get(o, {}).values() for v in vs]
args += ["--no-index"] * any(v and v[0].lower() in ("1", "true", "yes", "on") for v in found.get("no-index", {}).values())
args += [f"--index-url={v}" for v in found.get("index-url", {}).get(True, found.get("index-url", {}).get(False, []))]
if "cert" in found:
    os.environ["SSL_CERT_FILE"] = (found["cert"].get(True) or found["cert"][False])[0]
# pip treats every index alike: the pinned version is taken wherever it is
args += ["--index-strategy=unsafe-best-match"]
os.execv(sys.argv[1], sys.argv[1:] + list(dict.fromkeys(args)))
endef
export PIP_TO_UV
export COMMONS_HOME ?= $(CURDIR)/.commons
export DAGSTER_HOME ?= $(COMMONS_HOME)/dagster

.PHONY: install run test ui catalog bench names-model clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_INSTALL) --quiet --compile-bytecode -c constraints.txt -e '.[test,ner,train,s3]'
	rm -f $(VENV)/.installed-*
	touch $@

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	printf 'telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n' > $@

run: install $(DAGSTER_HOME)/dagster.yaml
	COMMONS_OFFLINE=1 $(BIN)/commons run

test: install
	HF_HUB_DISABLE_XET=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

ui: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

catalog: install
	$(BIN)/commons check

DATA := ../shared/data
# datatrove for the side-by-side benchmark, in its own venv: it needs xxhash<4, we pin xxhash 4
DATATROVE := $(CURDIR)/.commons/bench/datatrove-venv
$(DATATROVE)/.installed: benchmarks/datatrove-requirements.txt
	test -d $(DATATROVE) || $(PYTHON) -m venv $(DATATROVE)
	$(DATATROVE)/bin/python -m pip install --quiet -r benchmarks/datatrove-requirements.txt
	touch $@

bench: install $(DATATROVE)/.installed
	$(UV_INSTALL) --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python benchmarks/side_by_side.py --mb 300 --nightly 20 --out benchmarks/results/side_by_side.md
	$(BIN)/python benchmarks/side_by_side.py --mb 1000 --out benchmarks/results/scale_1000mb.md
	$(BIN)/python benchmarks/mirror.py --out benchmarks/results/mirror.md
	$(BIN)/python benchmarks/side_by_side.py --mb 3000 --no-datatrove --nightly 0 --out benchmarks/results/scale_3000mb.md
	$(BIN)/python benchmarks/pipeline.py --copies 20 --out benchmarks/results/pipeline.md
	$(BIN)/python benchmarks/steps.py --mb 100 --out benchmarks/results/steps.md
	$(BIN)/python benchmarks/pii_catalogues.py --out benchmarks/results/pii_catalogues.md
	$(BIN)/python benchmarks/small_run.py --out benchmarks/results/small_run.md
	$(BIN)/python benchmarks/language_accuracy.py $(DATA)/language/udhr_151_languages.jsonl --compare --out benchmarks/results/language.md
	$(BIN)/python benchmarks/dedup_accuracy.py $(DATA)/dedup/gutenberg --out benchmarks/results/dedup.md
	for f in presidio_synth_en.json meddocan_es_train.jsonl; do \
	  $(BIN)/python benchmarks/pii_accuracy.py $(DATA)/pii/$$f --out benchmarks/results/pii.md && \
	  $(BIN)/python benchmarks/pii_accuracy.py $(DATA)/pii/$$f --ner --out benchmarks/results/pii_ner.md || exit 1; done
	for s in dev test; do $(BIN)/python benchmarks/pii_accuracy.py $(DATA)/pii/presidio_synth_en.json --ner --split $$s \
	  --out benchmarks/results/pii_ner.md || exit 1; done
	$(BIN)/python benchmarks/names_real_text.py $(DATA)/opendata/open_textbook_library/OTL.csv --out benchmarks/results/pii_ner.md
	$(BIN)/python benchmarks/names_languages.py --out benchmarks/results/names_languages.md
	# Frog's cost, where it is installed (apt-get install frog frogdata); the Dutch rows here and in names_labelled use
	# it when it is
	if command -v frog >/dev/null; then $(BIN)/python benchmarks/frog.py --out benchmarks/results/frog.md; \
	  else echo "benchmarks/results/frog.md not remade: Frog is not installed"; fi
	# public labelled sets outside ../shared/data (names_labelled.py, language_sentences.py): only when LABELLED names their folder
	if [ -n "$(LABELLED)" ]; then for s in test dev; do $(BIN)/python benchmarks/names_labelled.py $(LABELLED) --split $$s \
	  --out benchmarks/results/names_labelled_$$s.md || exit 1; for c in sentences web; do \
	  $(BIN)/python benchmarks/language_sentences.py $(LABELLED) --corpus $$c --split $$s \
	  --out benchmarks/results/language_$${c}_$$s.md || exit 1; done; done; fi
	for s in 1 2; do $(BIN)/python benchmarks/addresses.py --seed $$s --out benchmarks/results/addresses.md || exit 1; done
	$(BIN)/python benchmarks/faults.py --out benchmarks/results/faults.md

# rebuilds commons_pipelines/curate/pii/en_names (about 15 minutes on 2 cores; reads the Gutenberg books in $(DATA))
# and xx_names (de, it, pt, nl, pl; about 40 minutes on 2 shared cores; the shipped 1.2.0 also reads the labelled sets of
# training/names_multi.py's REAL from LABELLED=<folder>); es_names and fr_names (4 to 9 minutes each); with LABELLED,
# also commons_pipelines/curate/variants.json.gz (bs/hr/sr and ms/id, from training/variants.py's SOURCES; seconds)
names-model: install
	$(BIN)/python training/person_names.py
	if [ -n "$(LABELLED)" ]; then $(BIN)/python training/variants.py $(LABELLED); fi
	nice -n 10 $(BIN)/python training/names_multi.py $(if $(LABELLED),--real-from $(LABELLED))
	nice -n 10 $(BIN)/python training/names_es.py
	nice -n 10 $(BIN)/python training/names_fr.py

# keeps the takedown lists: erased records must stay erased when everything is rebuilt
clean:
	find $(COMMONS_HOME) -mindepth 1 -maxdepth 1 ! -name takedown -exec rm -rf {} + 2>/dev/null || true
