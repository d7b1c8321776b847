# Landscape Studio: `make run` starts the product, `make test` runs the checks. Both set up what they need
# (Debian packages for Qt, a .venv with pinned torch and the project) and are safe to run again.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The photoreal FFHQ model: non-commercial weights, never committed or bundled; this machine fetches the pinned
# wheel from PyPI and installs only its data (--no-deps: OpenVINO is not needed). Offline, the product still runs.
FFHQ_WHEEL := $(VENV)/wheels/random_face-2021.7.21.1-py3-none-any.whl
FFHQ_SHA256 := e5d10e2be7df63f06123855ec591ca35dcb1d059eba47ddcb175d7d26b4019b5
FFHQ_STAMP := $(VENV)/.ffhq
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
OUT ?= out

.PHONY: run demo test lint system-deps venv bench screenshots package clean

system-deps:
	@bash packaging/ensure_system_deps.sh

$(PY):
	$(PYTHON) -m venv $(VENV)

# Torch is pinned and installed first: an unpinned torch would pull a multi-GB build.
$(STAMP): $(PY) pyproject.toml Makefile
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PINS)
	$(PY) -m pip install --quiet -e ".[dev,scale]" $(TORCH_PINS)
	@touch $(STAMP)

$(FFHQ_STAMP): $(STAMP)
	@$(PY) -m pip download --quiet --no-deps random-face==2021.7.21.1 -d $(VENV)/wheels \
		&& echo "$(FFHQ_SHA256)  $(FFHQ_WHEEL)" | sha256sum --check --quiet \
		&& $(PY) -m pip install --quiet --no-deps $(FFHQ_WHEEL) && touch $(FFHQ_STAMP) \
		|| echo "The FFHQ model (random-face) could not be installed; the embedded model works without it."

venv: system-deps $(STAMP) $(FFHQ_STAMP)

# The editor on the embedded model and a sample photo. Without a display the app says so, and the same engine
# runs headless on the sample instead (`make demo`).
run: venv
	@if $(PY) -c "import sys, app.__main__ as m; sys.exit(not m.has_display())"; then \
		$(VENV)/bin/landscape-studio; \
	else \
		$(VENV)/bin/landscape-studio; echo; echo "Running the headless demo instead:"; $(MAKE) --no-print-directory demo; \
	fi

demo: venv
	$(VENV)/bin/landscape-studio invert resources/samples/astronaut.png --steps 300 --starts 4 --out $(OUT)/astronaut
	@echo "Reconstruction, latents and report.json are in $(OUT)/astronaut/"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# Core tests run with Qt made unimportable, which proves the engine never needs it. The bad-input and fault
# battery (tests/battery) runs in both halves: its GUI cases open each bad file in the real window.
test: lint
	LS_BLOCK_QT=1 $(VENV)/bin/pytest -p no:pytest-qt tests/core tests/bench tests/packaging tests/battery \
		--ignore=tests/battery/gui
	@if [ -d tests/app ]; then QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest tests/app tests/battery/gui; fi

bench: venv
	$(PY) -m bench inversion
	QT_QPA_PLATFORM=offscreen $(PY) -m bench gui

# Real screenshots of the editor for the README (needs Debian's xvfb): the states a user meets, then the window
# filling a laptop's, a small desktop's and a full-HD screen.
screenshots: venv
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) packaging/screenshots.py --out docs
	for size in 1366x768 1600x900 1920x1080; do \
		xvfb-run -a -s "-screen 0 $${size}x24" $(PY) packaging/screenshot_sizes.py --out docs || exit 1; \
	done

# The installable build: PyInstaller one-folder bundle with CPU-only torch in dist/landscape-studio/, its offscreen
# --self-test, then dist/landscape-studio_<version>_amd64.deb (see packaging/README.md). Not part of `make test`.
package: system-deps
	bash packaging/build_package.sh

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
