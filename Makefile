# Set-up for a fresh Debian machine (run as root): `make demo` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
APT_PACKAGES := build-essential cmake libeigen3-dev libnlopt-dev libnlopt-cxx-dev \
	r-base-core r-base-dev r-cran-lme4 r-cran-broom r-cran-broom.mixed r-cran-mass \
	r-cran-sandwich r-cran-lmtest r-cran-car r-cran-boot r-cran-lmertest r-cran-pbkrtest
PY_BUILD := "scikit-build-core>=0.8" "pybind11>=2.11" ninja
PY_RUNTIME := numpy pandas scipy tqdm narwhals
PY_TEST := pytest hypothesis "rpy2>=3.5.15,<3.6" polars pyarrow matplotlib atheris
PY_BENCH := formulaic statsmodels pyfixest glum

.PHONY: demo test build system-deps venv bench lint clean dev fuzz fuzz-atheris sanitize

# Developer build: the extension lands in python/rmodels/ (use PYTHONPATH=python);
# serialised with flock so that several builds in one tree do not collide.
DEV_PY ?= $(VPY)
dev:
	@mkdir -p build
	flock build/.dev.lock bash -c 'cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DPython_EXECUTABLE=$$(command -v $(DEV_PY)) -Dpybind11_DIR=$$($(DEV_PY) -m pybind11 --cmakedir) >/dev/null \
	  && cmake --build build/dev \
	  && for f in build/dev/module/_core*.so; do \
	       cp "$$f" python/rmodels/.tmp_core.so && mv -f python/rmodels/.tmp_core.so python/rmodels/$$(basename "$$f"); done'

# Fuzzing (tests/fuzz): FUZZ_N inputs in child-process batches, FUZZ_JOBS at once (0: all
# cores); fails on any crash, hang (over 5 s), foreign exception or changed DataFrame; each
# batch goes to fuzz-log.jsonl, failures to fuzz-failures.jsonl. An interrupted run goes on
# with `make fuzz FUZZ_ARGS=--resume`.
FUZZ_N ?= 1000000
FUZZ_SEED ?= 0
FUZZ_JOBS ?= 0
FUZZ_ARGS ?=
fuzz:
	PYTHONPATH=python:. $(DEV_PY) -m tests.fuzz.run --n $(FUZZ_N) --seed $(FUZZ_SEED) \
	  --jobs $(FUZZ_JOBS) $(FUZZ_ARGS)

# Coverage-guided fuzzing of the formula lexer, parser, deparser and terms with atheris
# (pip install atheris, the `fuzz` extra) for FUZZ_SECONDS; a finding is written to crash-*.
FUZZ_SECONDS ?= 600
fuzz-atheris:
	PYTHONPATH=python:. $(DEV_PY) -m tests.fuzz.atheris_formula -max_total_time=$(FUZZ_SECONDS) \
	  -timeout=5 -dict=tests/fuzz/formula.dict

# AddressSanitizer + UndefinedBehaviorSanitizer build of the extension (build/sanitize), run on the
# C++-facing tests and the fuzz regressions with the ASan runtime preloaded (Python itself is
# not instrumented, so leak checking is off; R cannot start under ASan, so tests that need R are
# skipped).
SANITIZE_TESTS ?= tests/test_qr_core.py tests/test_lm_core.py tests/test_glm_core.py \
	tests/test_lmer_core.py tests/test_design_kernel.py tests/test_design_rows.py \
	tests/test_fuzz_regressions.py tests/test_hostile_formulas.py tests/test_glmer_core.py \
	tests/test_boot_core.py tests/test_batch_core.py tests/test_rformat.py
sanitize:
	@mkdir -p build
	cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
	  -DPython_EXECUTABLE=$$(command -v $(DEV_PY)) -Dpybind11_DIR=$$($(DEV_PY) -m pybind11 --cmakedir) >/dev/null
	cmake --build build/sanitize
	rm -rf build/sanitize/pkg && mkdir -p build/sanitize/pkg && cp -r python/rmodels build/sanitize/pkg/
	rm -f build/sanitize/pkg/rmodels/_core*.so && cp build/sanitize/module/_core*.so build/sanitize/pkg/rmodels/
	LD_PRELOAD="$$($(CXX) -print-file-name=libasan.so) $$($(CXX) -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  RMODELS_NO_R=1 PYTHONPATH=build/sanitize/pkg $(DEV_PY) -m pytest -q -p no:cacheprovider \
	  $(SANITIZE_TESTS)

demo: build
	$(VPY) -m rmodels.demo

test: build
	$(VPY) -m pip install -q $(PY_TEST)
	$(VPY) -m pytest -q -p no:cacheprovider tests

build: venv
	$(VPY) -m pip install -q --no-build-isolation --no-deps .

venv: system-deps $(VENV)/.stamp

$(VENV)/.stamp:
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q $(PY_BUILD) $(PY_RUNTIME)
	touch $@

# Install only the Debian packages that are missing (apt-get update once, first).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

bench: build
	$(VPY) -m pip install -q $(PY_BENCH) "rpy2>=3.5.15,<3.6"
	$(VPY) benchmarks/run_all.py

lint: venv
	$(VPY) -m pip install -q ruff clang-format
	$(VENV)/bin/ruff check python tests benchmarks
	$(VENV)/bin/clang-format --dry-run --Werror $$(find cpp -name "*.cpp" -o -name "*.hpp")

clean:
	rm -rf build $(VENV)
