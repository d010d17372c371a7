# The two quick-start commands: `make demo` and `make test`. Both install into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
TUNEFORGE := $(VENV)/bin/tuneforge
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: install demo test bench

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	# torch first, pinned: the local CPU wheel, not GBs of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m tuneforge.api.demo

test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

bench: install
	$(TUNEFORGE) bench loop
	$(TUNEFORGE) bench kernels
	$(TUNEFORGE) bench search
	$(TUNEFORGE) bench accel
