"""Build variables: parsing `--vars`, checking them against the declared `Var`s, resolving defaults."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

from ecom.core.registry import Var, is_secret, secret_run_on


class VarsError(Exception):
    """A `--vars` value that is malformed, unknown or of the wrong type."""


# The largest whole-number variable: days, hours and minutes beyond it mean nothing for a shop's
# data and would overflow 64-bit arithmetic in the models (2^63 - 1 days).
MAX_WHOLE = 100_000


# A --vars text may hold a secret's value: messages quote no {mapping} text (YAML can spell a key
# with escapes), a key=value part only when no key of the text is secret, and YAML's account of a
# problem (which can quote a character) only when the text names no secret.
def _names_secret(text: str) -> bool:
    return any(is_secret(word) for word in re.findall(r"\w+", text))


def _yaml_problem(e: yaml.YAMLError, text: str) -> str:
    if _names_secret(text):
        return "not shown"
    # a ScannerError's problem ("found unexpected end of stream"), a ReaderError's reason (a control
    # character); never str(e), which quotes the text
    return getattr(e, "problem", None) or getattr(e, "reason", None) or "not valid YAML"


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as PyYAML reads it, but whole numbers are decimal only: `030` is 30, not octal 24;
    `0x1e`, `1_000` and `1:30` (base 60, which YAML 1.1 reads as 90) stay text, for the variable's
    check to refuse."""


_INT = "tag:yaml.org,2002:int"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _INT]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Loader.add_constructor(_INT, lambda loader, node: int(loader.construct_scalar(node)))


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict:
    # PyYAML keeps the last of a repeated key; YAML says keys are unique: `{as_of: A, as_of: B}` is
    # more likely a mistake than a choice of B
    loader.flatten_mapping(node)
    keys = [str(loader.construct_object(key)) for key, _ in node.value]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise _given_twice(repeated, "{...}")
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _given_twice(names: list[str], where: str) -> VarsError:
    return VarsError(f"--vars {where} gives {', '.join(names)} more than once: give each variable once")


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # a SafeLoader: builds no Python objects


def _scalar(key: str, text: str) -> Any:
    """A `key=value` value as YAML reads it; text YAML takes for an impossible date
    (`2024-02-30`) stays text, for the variable's check to report."""
    try:
        return _load(text)
    except ValueError:
        return text
    except yaml.YAMLError as e:
        raise VarsError(
            f"--vars {key}=...: the value is not one YAML can read ({_yaml_problem(e, key)}); quote it whole, "
            f"e.g. --vars \"{key}='...'\""
        ) from None


def _written(value: Any) -> str:
    """A value YAML read, as the message quotes it: text quoted, anything else in YAML's words
    (`2025-01-01`, `[2025-01-01]`), not Python's (`datetime.date(2025, 1, 1)`)."""
    if isinstance(value, str):
        return repr(value)
    # a lone scalar ends its document with `...`
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=float("inf"))
    return dumped.removesuffix("...\n").strip()


def parse_vars(texts: Iterable[str]) -> dict[str, Any]:
    """`--vars` values, dbt-style: a YAML mapping (`{as_of: 2024-06-30, x: 5}`) or `key=value` pairs.

    Several values merge, later ones winning (a script's defaults, then an override); within one
    value a variable is given once.
    """
    result: dict[str, Any] = {}
    for text in texts:
        text = text.strip()
        if text:
            result.update(_parse_mapping(text) if text.startswith("{") else _parse_pairs(text))
    return result


def _parse_mapping(text: str) -> dict[str, Any]:
    """One `--vars '{as_of: 2024-06-30, x: 5}'`: a YAML mapping of names."""
    try:
        parsed = _load(text)
    except ValueError as e:  # an impossible date such as 2024-13-01 is not a YAMLError
        raise VarsError(f"--vars {{...}}: {e}; write dates as YYYY-MM-DD, e.g. 2024-06-30") from None
    except yaml.YAMLError as e:
        raise VarsError(
            f"--vars {{...}} is not a valid mapping ({_yaml_problem(e, text)}); "
            "write e.g. --vars '{as_of: 2024-06-30, session_timeout_minutes: 45}'"
        ) from None
    if not isinstance(parsed, dict):
        raise VarsError("--vars {...} is not a mapping; write e.g. --vars '{as_of: 2024-06-30}'")
    for key in parsed:
        _refuse_a_key_that_is_not_a_name(str(key))
    return {str(k): v for k, v in parsed.items()}


def _parse_pairs(text: str) -> dict[str, Any]:
    """One `--vars 'as_of=2024-06-30 x=5'`: key=value pairs apart by spaces or commas, each key once."""
    result: dict[str, Any] = {}
    for pair in text.replace(",", " ").split():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            shown = "a part" if _names_secret(text) else repr(pair)  # a secret's value with a space or comma
            raise VarsError(
                f"--vars {shown} is neither key=value nor a {{key: value}} mapping; "
                "write e.g. --vars as_of=2024-06-30 (quote a value holding spaces or commas as a mapping)"
            )
        _refuse_a_key_that_is_not_a_name(key)
        if key in result:  # after the checks above: a piece of a secret's value is never named as a key
            raise _given_twice([key], "key=value")
        result[key] = _scalar(key, value) if value else None
    return result


def _refuse_a_key_that_is_not_a_name(key: str) -> None:
    """YAML reads `{as_of:2024-06-30}` (or `{as_of=...}`, `{as_of 2024-06-30}`, `{salt:a: b}`) as one
    key; only the name it starts with is shown: the rest may be a secret's value. A name running on
    without such a separator (`as-of`) is a misspelt name, not a value: resolve_vars names it as an
    unknown variable beside the known ones (this advice would be `as=VALUE`), unless the name is a
    secret's: then whatever follows it may be the secret (`visitor_salt-Pr1vate`, `visitor_salt_Pr1vate`)."""
    secret = secret_run_on(key)
    name = secret or re.match(r"\w*", key).group()
    if secret or (name != key and re.match(r"[:=\s,;]", key[len(name)])):
        raise VarsError(
            f"--vars gives a name starting '{name}' followed by more than a name: write a colon and a space "
            f"between name and value, --vars '{{{name}: VALUE}}', or --vars {name}=VALUE"
        )


def check_value(var: Var, value: Any) -> Any:
    """The value converted to the variable's type, or a VarsError saying what is expected."""
    if value is None:  # `--vars as_of=` or `{as_of: }`
        raise VarsError(f"{var.name} is given no value in --vars: give one, or leave it out for its default")
    if var.type is dt.date:
        return _as_day(var, value)
    if var.type is int:
        return _as_whole_number(var, value)
    return _as_declared_type(var, value)


def _as_day(var: Var, value: Any) -> dt.date:
    """A date variable's value: a date, YYYY-MM-DD text, or a datetime at midnight."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time():  # YAML reads 2024-06-30T10:00:00 as an instant: not a day
            raise VarsError(f"{var.name} is a day: write it YYYY-MM-DD, not a date and time ({value})")
        value = value.date()
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a date: reported just below
            value = dt.date.fromisoformat(value)
    if not isinstance(value, dt.date):
        raise VarsError(f"{var.name} must be a date written YYYY-MM-DD, not {_written(value)}")
    return value


def _as_whole_number(var: Var, value: Any) -> int:
    """A whole-number variable's value (from an int or digits), positive if the variable says so,
    at most MAX_WHOLE."""
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise VarsError(f"{var.name} must be a whole number, not {_written(value)}")
    if var.positive and value <= 0:
        raise VarsError(f"{var.name} must be a positive whole number, not {_written(value)}")
    if value > MAX_WHOLE:
        raise VarsError(f"{var.name} must be a whole number no larger than {MAX_WHOLE:,}, not {_written(value)}")
    return value


def _as_declared_type(var: Var, value: Any) -> Any:
    """Any other variable's value, of its declared type as given; text must be UTF-8. A secret's
    value is never shown."""
    if not isinstance(value, var.type):
        shown = f"a value of type {type(value).__name__} (secret, not shown)" if var.secret else repr(value)
        hint = f"; quote it, e.g. --vars \"{{{var.name}: '...'}}\"" if var.type is str else ""
        hint += f", or set {var.env}" if var.env else ""
        raise VarsError(f"{var.name} must be a {var.type.__name__}, not {shown}{hint}")
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 (the shell passes them as surrogates)
            shown = "(secret, not shown)" if var.secret else repr(value)
            raise VarsError(f"{var.name} holds bytes that are not UTF-8 text: {shown}") from None
    return value


def printable(declared: Mapping[str, Var], values: Mapping[str, Any]) -> dict[str, str]:
    """The variables as text to print or record: a secret one only says whether it is set."""
    secret = {name for name, var in declared.items() if var.secret}
    return {name: ("set" if value else "not set") if name in secret else str(value) for name, value in values.items()}


def resolve_vars(
    declared: Mapping[str, Var],
    given: Mapping[str, Any],
    compute: Callable[[Callable[..., Any]], Any],
    *,
    check_bounds: bool = True,
) -> dict[str, Any]:
    """Every declared variable's value: the given one, else its environment variable, else its default.

    A default that is a function (of raw sources) is evaluated by `compute`, once; a None result
    means the data cannot supply it, which is an error telling how to give the value. A value
    outside the variable's `bounds` (evaluated by `compute` too) or above the variable it is
    `at_most` is an error giving the range, unless `check_bounds` is off: the values a build
    recorded are read as they were built (a build before a check existed may not meet it).
    """
    _refuse_unknown(declared, given)
    values = {}
    for name, var in declared.items():
        values[name] = _value_of(var, given, compute, check_bounds)
        if check_bounds and var.bounds is not None:
            _check_bounds(var, values[name], compute(var.bounds))
    if check_bounds:
        _refuse_above_at_most(declared, values)
    return values


def check_given(declared: Mapping[str, Var], given: Mapping[str, Any]) -> None:
    """What can be told of the variables before any data is read: a name not declared, a value given
    (or set in its environment variable) not of its type or range, or above the variable it is
    `at_most` when both are known. The bounds on the data wait for the data: `ecom run --load`
    checks this before it loads (a typo in --vars replaced the raw tables, then stopped the run)."""
    _refuse_unknown(declared, given)
    known = {}  # given, set in the environment, or a fixed default: all but the data's
    for name, var in declared.items():
        if name in given or (var.env and var.env in os.environ):
            known[name] = _value_of(var, given, lambda _: None, check_bounds=False)
        elif not callable(var.default):
            known[name] = var.default
    _refuse_above_at_most(declared, known)  # critical_days above low_days (a default) is known too


def _refuse_unknown(declared: Mapping[str, Var], given: Mapping[str, Any]) -> None:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise VarsError(f"unknown variable {', '.join(unknown)} in --vars; known: {', '.join(sorted(declared))}")


def _value_of(
    var: Var, given: Mapping[str, Any], compute: Callable[[Callable[..., Any]], Any], check_bounds: bool
) -> Any:
    """One variable's value: given, else from its environment variable, else its default (on the
    data, when a function)."""
    if var.name in given:
        return check_value(var, given[var.name])
    if var.env and var.env in os.environ:
        return check_value(var, os.environ[var.env])
    if callable(var.default):
        value = default_on_data(var, compute, with_bounds=check_bounds)
        if value is None:  # the default function's docstring opens with why there is none
            why = (var.default.__doc__ or "").strip().partition("\n")[0]
            raise VarsError(
                f"{var.name} has no default on this data ({var.doc}){': ' * bool(why)}{why}; "
                f"give it with --vars {var.name}=..."
            )
        return check_value(var, value)
    return var.default


def _refuse_above_at_most(declared: Mapping[str, Var], values: Mapping[str, Any]) -> None:
    """A variable larger than the variable it is `at_most` (critical_days above low_days), among those
    `values` holds (check_given knows no default that comes from the data)."""
    for name, var in declared.items():
        limit = var.at_most and values.get(var.at_most)
        if limit and name in values and values[name] > limit:
            raise VarsError(
                f"{name}={values[name]} is larger than {var.at_most}={limit} ({declared[var.at_most].doc}): "
                f"give {name} at most {limit}, or a larger {var.at_most}"
            )


def default_on_data(var: Var, compute: Callable[[Callable[..., Any]], Any], with_bounds: bool = True) -> Any:
    """The value of a variable's default (a function of raw sources) on the data. Bounds with a
    `default` column give it from their own query, which a check of the bounds runs anyway: one
    billed job on BigQuery, not two. `with_bounds=False` (no check of the bounds, so no query of
    them) computes the default alone."""
    bounds = compute(var.bounds) if with_bounds and var.bounds is not None else None
    return bounds["default"] if bounds and "default" in bounds else compute(var.default)


def _check_bounds(var: Var, value: Any, bounds: Mapping[str, Any] | None) -> None:
    low, high = (bounds or {}).get("low"), (bounds or {}).get("high")
    if (low is None or value >= low) and (high is None or value <= high):
        return
    allowed = (
        f"from {low} to {high}"
        if low is not None and high is not None
        else (f"from {low}" if low is not None else f"up to {high}")
    )
    why = (var.bounds.__doc__ or "").strip().splitlines()[0]
    raise VarsError(f"{var.name}={value} is outside what this data supports ({why}): give a value {allowed}")
