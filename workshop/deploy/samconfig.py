"""samconfig read as the SAM CLI reads it: one reader for the checks and `workshop pipeline`.

The SAM CLI looks for `--config-file` if given, else `samconfig.toml`, else `samconfig.yaml`
or `samconfig.yml`, beside the template; within a config environment, the options of
`[ENV.global.parameters]` apply to every command and `[ENV.COMMAND.parameters]` override them
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-config.html).
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml

from .template import FASTEST_SAFE_LOADER

CONFIG_NAMES = ("samconfig.toml", "samconfig.yaml", "samconfig.yml")
Config = dict[str, Any]


class SamConfigError(Exception):
    """A samconfig file that cannot be read, with the file and the reason."""


def find(folder: Path, config_file: str | None = None) -> Path | None:
    """The file the SAM CLI would read in `folder`: the one named, else the first default that exists."""
    if config_file:
        path = folder / config_file
        return path if path.is_file() else None
    return next((folder / name for name in CONFIG_NAMES if (folder / name).is_file()), None)


def load(path: Path) -> Config:
    """The file's tables: TOML, or YAML for a .yaml/.yml file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SamConfigError(f"cannot read {path.name}: {exc.strerror}") from None
    try:
        document = (yaml.load(text, Loader=FASTEST_SAFE_LOADER) if path.suffix in (".yaml", ".yml")  # noqa: S506
                    else tomllib.loads(text))
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        kind = "YAML" if path.suffix in (".yaml", ".yml") else "TOML"
        raise SamConfigError(f"{path.name} is not valid {kind}: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict):
        raise SamConfigError(f"{path.name} is not a samconfig file (not a table of environments)")
    return document


def environments(config: Config) -> list[str]:
    """The config environments the file declares (its top-level tables)."""
    return [str(name) for name, table in config.items() if isinstance(table, dict)]


def parameters(config: Config, env: str, command: str = "deploy") -> dict[str, Any] | None:
    """The options `sam <command> --config-env env` uses: global's, then the command's over them.

    None when the environment has neither table (the SAM CLI then uses no file options).
    """
    table = config.get(env)
    if not isinstance(table, dict):
        return None
    merged: dict[str, Any] = {}
    found = False
    for section in ("global", command):
        params = table.get(section, {}).get("parameters") if isinstance(table.get(section), dict) else None
        if isinstance(params, dict):
            merged.update(params)
            found = True
    return merged if found else None


def parse_overrides(value: Any) -> dict[str, str]:
    """parameter_overrides (a string or a list) or the CLI's, as a dict.

    Both forms SAM accepts: `Key=Value Key2="a b"` and `ParameterKey=Key,ParameterValue=Value`.
    """
    items: list[str] = []
    for part in (value if isinstance(value, list) else [value] if value else []):
        try:
            split = shlex.split(str(part))
        except ValueError:
            split = [str(part)]
        # "A=1 B=2" is two pairs; an argument already split by the shell, A=two words, is one
        items += split if isinstance(value, str) or all("=" in s for s in split) else [str(part)]
    overrides = {}
    for item in items:
        long_form = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", item)
        if long_form:
            overrides[long_form.group(1)] = long_form.group(2)
        elif "=" in item:
            key, _, val = item.partition("=")
            overrides[key] = val
    return overrides


def overrides(config: Config, env: str) -> dict[str, str] | None:
    """The parameter overrides `sam deploy --config-env env` passes; None without a deploy config."""
    found = parameters(config, env)
    return None if found is None else parse_overrides(found.get("parameter_overrides"))
