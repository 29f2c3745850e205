"""docs/configuration.md, generated from the config dataclasses so the two cannot drift.

Regenerate with `python -m thermorl.config_doc > docs/configuration.md`; a test compares.
"""

from __future__ import annotations

import dataclasses

from .config import Config, HeadEntropyConfig
from .config_io import _describe, field_paths, field_type, flatten
from .presets import ALGO_DEFAULTS, GENERAL, GENERAL_SET, PRESET_NOTES, PRESETS

INTRO = """# Configuration

Every setting is a field of a frozen dataclass in `thermorl.config`; the same field is a YAML key
(nested by section) and a command-line flag (`--SECTION.FIELD VALUE`, the value read as YAML).
`thermorl train --help` prints the same list. This page is generated from the dataclasses
(`python -m thermorl.config_doc > docs/configuration.md`) and a test keeps it in step.

Precedence, lowest first: the defaults below, the env's preset, the `--config` YAML file, flags.
Unknown keys, wrong types and out-of-range values are errors that name the field and what it
accepts; `ppo.num_minibatches` must divide `ppo.num_envs * ppo.num_steps`. Flags may reach into
mapping fields: `--entropy.heads.action.mode learned`, `--env_kwargs.g 9.81`."""


def _default(f: dataclasses.Field) -> str:
    d = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if isinstance(d, tuple):
        d = list(d)
    if d is None:
        return "null"
    if isinstance(d, bool):
        return str(d).lower()
    return str(d)


def markdown() -> str:
    lines = [INTRO]
    section = None
    for path, f in field_paths().items():
        s = path.split(".")[0] if "." in path else "run"
        if s != section:
            section = s
            title = ("Run settings (top level)" if s == "run" else
                     f"`{s}:` {Config.__dataclass_fields__[s].metadata['help']}")
            lines += ["", f"## {title}", "", "| key | default | accepts | meaning |",
                      "|---|---|---|---|"]
        lines.append(f"| `{path}` | `{_default(f)}` | {_describe(field_type(path), f)} | "
                     f"{f.metadata['help']} |")
    lines += ["", "### `entropy.heads.<head>:` per-head overrides", "",
              "Each key below, set under a head's name, overrides the `entropy:` default of the "
              "same name for that head alone; unset keys inherit.", "",
              "| key | accepts | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(HeadEntropyConfig):
        m = f.metadata
        accepts = m.get("accepts") or ("one of " + ", ".join(c for c in m["choices"] if c)
                                       if m.get("choices") else f"as `entropy.{f.name}`")
        lines.append(f"| `{f.name}` | {accepts} | {m['help']} |")
    lines += ["", "## Defaults by algorithm", "",
              "Each algorithm lays these over the defaults above, before any preset (see "
              "docs/sac.md, and docs/entropy.md for PPO's noise):", ""]
    for algo, over in ALGO_DEFAULTS.items():
        if over:
            lines.append(f"- `{algo}`: " + ", ".join(f"`{k}={v}`" for k, v in flatten(over)))
    lines += ["", "## The general preset", "",
              "With `preset: auto`, a PPO run on an env that has no preset of its own gets "
              f"`{GENERAL}` (docs/defaults.md", "has the table it was chosen from; "
              f"`--preset {GENERAL}` names it): "
              + ", ".join(f"`{k}={v}`" for k, v in flatten(GENERAL_SET)), ""]
    lines += ["", "## Presets", "",
              "Applied when `preset: auto` (the default) and the env id matches (a SAC preset "
              "is named `sac/<env id>` and applies with `algo: sac`); `preset: none` "
              "disables them. One named `zoo/<env id>` applies only by name (`--preset "
              "zoo/Hopper-v5`); one named `selfplay/<env id>` applies when "
              "`selfplay.enabled` is true (and, named, turns it on).", ""]
    for env, preset in PRESETS.items():
        note = f" ({PRESET_NOTES[env]})" if env in PRESET_NOTES else ""
        lines.append(f"- `{env}`{note}: "
                     + ", ".join(f"`{k}={v}`" for k, v in flatten(preset)))
    lines += ["", "Sources: rl-baselines3-zoo's published PPO hyperparameters for each env; "
              "Stable-Baselines3's SAC defaults for `sac/Pendulum-v1`. For "
              "Pendulum-v1 a plain", "state-independent Gaussian stands in for the zoo's gSDE "
              "and still passes the learning tests", "(evaluation return >= -250 within the "
              "zoo's 100k steps).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
