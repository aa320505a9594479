"""What every settings schema is made of: settings with a fixed set of values (:class:`Choice`)
and the one-line checks of a value (:func:`choice`, :func:`need`, :func:`fraction`). The
schemas themselves live beside what they configure (:mod:`corrkin.config`,
:mod:`corrkin.technique.config`), each importing this base, never each other."""

from __future__ import annotations

from enum import Enum


class Choice(str, Enum):
    """A setting with a fixed set of values. Hydra rejects any other value at composition
    (``Invalid value 'x', expected one of [...]``); the member is its value everywhere it goes
    (``==``, ``str()``, f-strings, JSON, CSV, Parquet, hashes), the same on every Python (3.12
    changed how ``format()`` shows ``str`` mixins: pinned here)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return self.value.__format__(spec)


class MinQuality(Choice):
    """Which clips a library step takes: ``any``, or only those whose quality says reliable."""

    any = "any"
    reliable = "reliable"


def choice(kind: type[Choice], key: str, value) -> Choice:
    """``value`` as a member of ``kind`` (a config built in code may give the plain string), or
    one line naming the setting and the values it takes."""
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{key}={value!r}: must be one of {[c.value for c in kind]}") from None


def need(ok: bool, key: str, value, rule: str) -> None:
    """A setting outside its range: one line naming it, its value and the rule."""
    if not ok:
        raise ValueError(f"{key}={value!r}: {rule}")


def fraction(key: str, value) -> None:
    need(0 <= value <= 1, key, value, "must be between 0 and 1")
