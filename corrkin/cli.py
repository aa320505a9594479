"""Thin Hydra entry points: ``corrkin <command> key=value ...``.

Each command is a config in ``corrkin/configs/`` and a plain ``run_*(cfg)`` function that tests call
directly; this module only composes the config and passes the exit code on.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from corrkin.config import register_configs

CONFIG_DIR = str(Path(__file__).resolve().parent / "configs")  # inside the package: found from a wheel too


def _analyse(cfg: DictConfig) -> int:
    from corrkin.commands.analyse import run_analyse

    return run_analyse(cfg)


def _run(cfg: DictConfig) -> int:
    from corrkin.commands.run import run_video

    return run_video(cfg)


def _align(cfg: DictConfig) -> int:
    from corrkin.commands.align import run_align
    from corrkin.config import as_object

    return run_align(as_object(cfg))


def _library(cfg: DictConfig) -> int:
    from corrkin.commands.library import run_library

    return run_library(cfg)


def _sample(cfg: DictConfig) -> int:
    from corrkin.commands.sample import run_sample

    return run_sample(cfg)


def _render(cfg: DictConfig) -> int:
    from corrkin.commands.render import run_render

    return run_render(cfg)


def _report(cfg: DictConfig) -> int:
    from corrkin.commands.report import run_report

    return run_report(cfg)


def _export(cfg: DictConfig) -> int:
    from corrkin.commands.export import run_export

    return run_export(cfg)


def _demo(cfg: DictConfig) -> int:
    from corrkin.commands.demo import run_demo

    return run_demo(cfg)


COMMANDS = {
    "analyse": (_analyse, "analyse keypoint files: corrkin analyse input=<file|folder> output=<folder>"),
    "run": (_run, "videos to keypoints, bat tip and analysis: corrkin run input=<videos> output=<folder> [pose=mediapipe]"),
    "align": (_align, "align an analysed library: corrkin align input=<results> output=<folder> [labels=<csv>]"),
    "library": (_library, "a library, resumable, torchrun-shardable: corrkin library input=<manifest|folder> output=<dir>"),
    "sample": (_sample, "swings from a technique model: corrkin sample model=<run> [lora=<run>] shot=<s> output=<dir>"),
    "render": (_render, "skeleton videos / OpenPose pictures of keypoint files: corrkin render input=<file|dir> output=<dir>"),
    "report": (_report, "an HTML page of a run or library: corrkin report input=<output folder> [videos=<dir>]"),
    "export": (_export, "keypoints as OpenSim .trc markers: corrkin export input=<results|keypoint files> output=<dir>"),
    "demo": (_demo, "make the synthetic demo library and analyse it: corrkin demo [output=demo_output]"),
}


def _sweep_output(cfg: DictConfig) -> None:
    """In a multirun (``-m``), each run writes into its own folder, ``<output>/multirun/<n>``."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    if hc.mode == RunMode.MULTIRUN and "output" in cfg:
        cfg.output = hc.runtime.output_dir


# what to pass for a required setting, by its full key
HINTS = {
    "input": "input=<file or folder>",
    "output": "output=<folder>",
    "pose.keypoints": "pose.keypoints=<folder with <video stem>.npz/.json> (pose=file), or a model: pose=mediapipe",
    "model": "model=<a technique training run>",
    "shot": "shot=<shot label>",
}


def missing_settings(cfg: DictConfig) -> str:
    """One line naming each required setting that was not given and what to pass; '' if none."""
    from omegaconf import OmegaConf

    keys = sorted(OmegaConf.missing_keys(cfg))
    if not keys:
        return ""
    return "missing " + ", ".join(keys) + "; pass " + " ".join(HINTS.get(k, f"{k}=<value>") for k in keys)


def checked(cfg: DictConfig) -> None:
    """Every setting in its range, now, before any work (the schemas' ``__post_init__`` checks
    run when the config becomes its dataclasses); raises ``ValueError`` with one line."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        OmegaConf.to_object(cfg)
    except OmegaConfBaseException as e:  # a check's ValueError, wrapped with the key's path
        cause = e.__cause__ if isinstance(e.__cause__, ValueError) else None
        raise ValueError(str(cause) if cause else str(e).splitlines()[0]) from None


# the setting Hydra's own run folder is placed under (corrkin/configs/<command>.yaml, hydra.run.dir)
RUN_DIR_KEY = {"analyse": "output", "run": "output", "align": "output", "library": "output", "sample": "output",
               "render": "output", "report": "input", "demo": "output", "export": "output"}
REQUIRED = {"analyse": ("input", "output"), "run": ("input", "output"), "align": ("input", "output"),
            "library": ("input", "output"), "render": ("input", "output"), "report": ("input",),
            "export": ("input", "output")}


def _given(argv: list[str]) -> dict[str, str]:
    return dict(a.split("=", 1) for a in argv if "=" in a and not a.startswith(("-", "+", "~")))


# settings that name a file or folder: their values are literal paths, whatever they hold
PATH_KEYS = frozenset({"input", "output", "videos", "video", "labels", "impacts", "align", "pose.keypoints"})
_PLAIN = re.compile(r"[A-Za-z0-9_./~:@+-]*")  # what Hydra's grammar reads as itself, unquoted


def _hydra_string(value: str) -> str:
    """``value`` as a single-quoted string of Hydra's override grammar, read back exactly: a
    quote and a backslash before a quote or at the end escaped, ``${`` kept from interpolating."""
    out = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, value).replace("'", "\\'").replace("${", "\\${")
    return f"'{out}'"


def _quoted(arg: str, sweep: bool = False) -> str:
    """``key=value`` as Hydra's override grammar reads it: a path setting's value (``PATH_KEYS``)
    quoted unless it is plain or already quoted, so that ``input='clips (1)'``, a ``#``, ``[``,
    ``,``, ``;`` or ``${`` in a file name is the name (in a sweep, ``-m``, commas still separate
    runs); another value quoted where its letters go beyond ASCII (``shot=café``)."""
    if "=" not in arg or arg.startswith("-"):
        return arg
    key, value = arg.split("=", 1)
    if value[:1] in "'\"" or (key.lstrip("+") in PATH_KEYS and (_PLAIN.fullmatch(value) or sweep)):
        return arg
    if key.lstrip("+") in PATH_KEYS or not value.isascii():
        return f"{key}=" + _hydra_string(value)
    return arg


def path_problems(name: str, argv: list[str], sweep: bool = False) -> str:
    """One line for what stops a command before its config exists: a required setting not
    given (Hydra's run folder is placed under one), an output that is a file."""
    given = _given(argv)
    empty = [k for k in REQUIRED.get(name, ()) if k in given and not given[k].strip("'\" ")]
    if empty:
        return f"{empty[0]} is empty; pass " + HINTS.get(empty[0], f"{empty[0]}=<value>")
    missing = [k for k in REQUIRED.get(name, ()) if k not in given]
    if RUN_DIR_KEY.get(name) and RUN_DIR_KEY[name] not in given and RUN_DIR_KEY[name] not in missing:
        missing.append(RUN_DIR_KEY[name])
    if missing:
        return "missing " + ", ".join(missing) + "; pass " + " ".join(HINTS.get(k, f"{k}=<value>") for k in missing)
    out = given.get(RUN_DIR_KEY.get(name, ""), "").strip("'\"")
    key = RUN_DIR_KEY.get(name, "output")
    if name == "report":  # the page, and Hydra's record of the run, go to output=, else <input>/report
        if not Path(out).is_dir():
            return f"input={out}: no such folder"
        key, out = ("output", given["output"].strip("'\"")) if given.get("output") else ("input", out)
    if "${" in out and not sweep:  # Hydra resolves its run folder's name twice: no escape survives
        return (f"{key}={out}: a folder whose name holds '${{' cannot hold Hydra's run record "
                "(it reads ${...} as a reference); choose another name")
    if out and not sweep:  # a sweep's outputs are Hydra's to make
        return _writable(name, key, out)
    return ""


MADE: list[Path] = []  # the output folder this command made (a refused run removes it again)


def _writable(name: str, key: str, out: str) -> str:
    """One line where the folder a command writes into (report's: output=, else <input>/report)
    cannot be made or written, before Hydra tries to put its run record there; '' where it can."""
    folder = Path(out) / "report" if name == "report" and key == "input" else Path(out)
    hint = "; pass output=<a folder you can write>" if key == "input" else ""
    named = "" if folder == Path(out) else f"{folder} "  # the folder, where it is not the one given
    if folder.exists() and not folder.is_dir():
        return f"{key}={out}: {named}exists and is not a folder{hint}"
    try:  # made here, where a read-only or full disk is one line, not inside Hydra
        if not folder.exists():
            MADE.append(folder)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return f"{key}={out}: cannot make {named or 'the folder '}({e.strerror or e}){hint}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{key}={out}: {named or 'the folder '}is read-only{hint}"
    return ""


def composition_problem(name: str, argv: list[str]) -> str:
    """One line for what stops Hydra composing the command's config (a misspelt key, a value a
    setting does not take: ``analysis.test='fisher': expected one of [acf, lag1]``); '' where it
    composes. Composed here once more, before Hydra's own run, whose report of the same takes
    several lines; sweeps (``-m``) are left to Hydra, which composes each run itself."""
    import re

    from hydra import compose, initialize_config_dir
    from hydra.errors import ConfigCompositionException

    if any(a in ("-m", "--multirun") for a in argv):
        return ""
    try:
        with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
            compose(name, overrides=[a for a in argv if not a.startswith("-")])
    except ConfigCompositionException as e:
        cause = e.__cause__ or e
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else str(e).splitlines()[0]
        enum = re.match(r"Invalid value '(.*)', (expected one of \[.*\])", first)
        key = getattr(cause, "full_key", None)
        if enum and key:
            return f"{key}={enum.group(1)!r}: {enum.group(2)}"
        unknown = re.match(r"Key '(.*)' not in '.*'", first)
        if unknown and key:
            return f"{key}: no such setting" + _nearest(name, key)
        return f"{key}: {first}" if key and key not in first else first
    except Exception:  # noqa: BLE001 - anything else is Hydra's to report, as before
        return ""
    return ""


def _nearest(name: str, key: str) -> str:
    """``; did you mean <setting>?`` for the command's setting nearest a misspelt or misplaced
    ``key`` (``theta`` -> ``analysis.theta``), or ''."""
    import difflib

    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose(name)
    flat: list[str] = []

    def walk(node, prefix: str) -> None:
        for k in node.keys() if OmegaConf.is_dict(node) else ():
            full = f"{prefix}{k}"
            flat.append(full)
            child = OmegaConf.select(node, str(k), throw_on_missing=False)
            if OmegaConf.is_dict(child):
                walk(child, full + ".")

    walk(cfg, "")
    leaf = key.rsplit(".", 1)[-1]
    same_leaf = [k for k in flat if k.rsplit(".", 1)[-1] == leaf]
    near = same_leaf or difflib.get_close_matches(key, flat, n=1, cutoff=0.7) or \
        [k for k in flat if k.rsplit(".", 1)[-1] in difflib.get_close_matches(leaf, [f.rsplit(".", 1)[-1] for f in flat], n=1)]
    return f"; did you mean {' or '.join(near[:3])}?" if near else ""


def _forget_run() -> None:
    """Remove Hydra's record of a run refused before any work (its folder under ``.hydra``, and
    ``.hydra`` where that leaves it empty, and the output folder where this command made it)."""
    import shutil

    from hydra.core.hydra_config import HydraConfig

    run = Path(HydraConfig.get().runtime.output_dir)
    shutil.rmtree(run, ignore_errors=True)
    for folder in (run.parent, *(f for f in MADE if f == run.parent.parent)):  # .hydra, the output made now
        try:
            folder.rmdir()  # only where empty
        except OSError:
            break


def _quiet_start_up(verbose: bool) -> None:
    """Silence what other packages say on every start (torch's "No CUDA runtime is found" from
    its extension builder, TensorFlow Lite's and absl's notes from MediaPipe): only their errors
    are shown; ``--verbose`` shows all. Settings already in the environment are kept."""
    import logging

    if verbose:
        os.environ["CORRKIN_VERBOSE"] = "1"  # MediaPipe's native notes too (corrkin.pose.mediapipe)
        return

    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    for key, level in (("TF_CPP_MIN_LOG_LEVEL", "2"), ("GLOG_minloglevel", "2")):
        os.environ.setdefault(key, level)


def command_help(name: str) -> str:
    """``corrkin <command> --help``: what the command does, then every setting with its default
    (as composed: a preset's or a group's values) and its meaning from the schema
    (:func:`corrkin.config.described`), and the groups to choose from."""
    import textwrap

    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from corrkin import config as schemas
    from corrkin.config import described
    from corrkin.technique.config import SampleConfig

    schema = {"analyse": schemas.AnalyseConfig, "run": schemas.RunConfig, "align": schemas.AlignConfig,
              "library": schemas.LibraryConfig, "report": schemas.ReportConfig, "render": schemas.RenderConfig,
              "demo": schemas.DemoConfig, "sample": SampleConfig, "export": schemas.ExportConfig}[name]
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose(name)
    lines = [f"corrkin {name}: {COMMANDS[name][1]}", "",
             f"usage: corrkin {name} key=value ... [--verbose] [--cfg job] [-m for a sweep]", "", "settings:"]
    for key, meaning in described(schema):
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(cfg, parent) if parent else cfg
        if node is not None and OmegaConf.is_missing(node, leaf):
            default = "(required)"
        else:
            value = OmegaConf.select(cfg, key, default=None)
            default = "= " + (json_value(value) if value is not None else "null")
        text = f"  {key} {default}"
        if meaning:
            text += "\n" + textwrap.fill(meaning, 100, initial_indent=" " * 6, subsequent_indent=" " * 6)
        lines.append(text)
    groups = sorted(p for p in Path(CONFIG_DIR).iterdir() if p.is_dir() and p.name in cfg and not p.name.startswith("hydra"))
    if groups:
        lines += ["", "choices (group=option):"]
        lines += [f"  {g.name}=" + "|".join(sorted(y.stem for y in g.glob("*.yaml") if y.stem != "schema")) for g in groups]
    lines += ["", "Hydra's own options: --hydra-help"]
    return "\n".join(lines)


def json_value(value) -> str:
    """A setting's value as one types it: lists and mappings in Hydra's brackets."""
    import json

    from omegaconf import OmegaConf

    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=False)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict, bool)) or value is None else str(value)


def _no_command(argv: list[str]) -> int:
    """The version (``--version``), the usage, for ``--help`` (exit 0), nothing, or a command
    that is not one (named, with the nearest that is: exit 2)."""
    if argv[:1] in (["--version"], ["-V"]):
        from corrkin import __version__

        print(f"corrkin {__version__}")
        return 0
    asked = bool(argv) and argv[0] in ("-h", "--help")
    if argv and not asked:
        import difflib

        near = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        print(f"corrkin: unknown command '{argv[0]}'" + (f"; did you mean '{near[0]}'?" if near else ""),
              file=sys.stderr)
    print(usage(), file=sys.stdout if asked else sys.stderr)
    return 0 if asked else 2


def usage() -> str:
    lines = ["usage: corrkin <command> [key=value ...] [--help] [--cfg job] [--verbose]", "       corrkin --version",
             "", "commands:"]
    lines += [f"  {name:<9} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed escaped, never an error
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if not argv or argv[0] not in COMMANDS:
        return _no_command(argv)
    MADE.clear()  # this call's own (main may be called again in one process)
    name = argv.pop(0)
    verbose = "--verbose" in argv  # the whole traceback of a path or setting error, and others' start-up noise
    _quiet_start_up(verbose)
    sweep = any(a in ("-m", "--multirun") for a in argv)
    raw = [a for a in argv if a != "--verbose"]  # the values as typed: paths are checked as such
    argv = [_quoted(a, sweep) for a in raw]
    asks = any(a in ("--help", "-h", "--hydra-help", "--info", "-i") or a.startswith(("--cfg", "-c")) for a in argv)
    register_configs()
    if "--help" in argv or "-h" in argv:
        print(command_help(name))
        return 0
    problem = "" if asks else (composition_problem(name, argv) or path_problems(name, raw, sweep))
    if problem:
        print(f"corrkin {name}: {problem}", file=sys.stderr)
        return 2
    func = COMMANDS[name][0]
    code = {"value": 0}

    @hydra.main(config_path=CONFIG_DIR, config_name=name, version_base="1.3")
    def entry(cfg: DictConfig) -> None:
        try:
            missing = missing_settings(cfg)
            if missing:
                raise ValueError(missing)
            checked(cfg)
        except ValueError as e:  # refused before any work: nothing of the run is kept
            print(f"corrkin {name}: {e}", file=sys.stderr)
            code["value"] = 2
            _forget_run()
            return
        _sweep_output(cfg)
        from corrkin.io.keypoints import ClipError
        from corrkin.runtime import interrupt_on_signals, stop_code

        try:
            with interrupt_on_signals():  # a command's own loops finish their step; any other step ends here
                code["value"] = func(cfg)
        except (OSError, ValueError, ClipError, ImportError) as e:  # a path, a setting, a backend not installed: one line
            if verbose:
                raise
            print(f"corrkin {name}: {e}", file=sys.stderr)
            code["value"] = 2
        except KeyboardInterrupt:  # stopped where no loop of the command's own could finish a step
            if verbose:
                raise
            print(f"corrkin {name}: stopped; what was written before is whole", file=sys.stderr)
            code["value"] = stop_code()

    saved = sys.argv
    sys.argv = [f"corrkin {name}", *argv]
    try:
        entry()
    except SystemExit as e:  # Hydra could not compose the config (a misspelt key, a value not
        if verbose or e.code in (0, None):  # among a setting's choices) and has said why
            raise
        return 2
    finally:
        sys.argv = saved
    return code["value"]


if __name__ == "__main__":
    sys.exit(main())
