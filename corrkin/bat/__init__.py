"""The bat-tip detector (:func:`corrkin.bat.detect.detect_bat`), one module per step, its settings
and tuning in :mod:`corrkin.bat.settings`. Imports nothing, so the config schema may import the
torch-free settings alone."""
