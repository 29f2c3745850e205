"""ONNX export of a trained policy's deterministic actor, for use without thermorl or torch.

The exported graph is what `predict(obs, deterministic=True)` computes, end to end: the
observation as the env gives it (batched), its normalization with the run's frozen statistics,
the actor, each head's mode, and the map back to the env's action (a categorical head's offset,
a Gaussian's clip to the box or tanh squash onto it). The critic is left out.

Inputs and outputs, all with a leading batch axis `N` of any size:

- `obs`: the env's observation, float32 `[N, *shape]` (Discrete: int64 `[N]`; MultiDiscrete and
  MultiBinary: int64 `[N, *shape]`); for a Dict or Tuple observation one input per entry,
  `obs/<key>` (nested: `obs/<key>/<position>`), typed alike, a Dict's `action_mask` entry
  excepted; the metadata's `obs_dtypes` gives each input's type;
- `action_mask` (a single-head space) or `action_mask/<head>`: bool `[N, n]`, True where an action
  is valid, for each head the env masks (a MultiDiscrete head's dimensions side by side);
- `state_in` (recurrent policies): float32 `[N, S]`, zeros where an episode starts;
- outputs `action` (a single-head space) or `action/<head>` per head, in the env's dtype and
  shape, and `state_out` `[N, S]` for recurrent policies, to pass back as the next `state_in`.

The model's metadata (`thermorl` key) holds the same description as JSON.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from .distributions.categorical import MASKED_LOGIT
from .envs import make_vector_env
from .envs.spaces import ACTION_MASK_KEY, SEP, SINGLE_HEAD, HeadSpec
from .errors import ThermorlError

OPSET = 18
EXTRA_HINT = 'pip install -e ".[export]"'


def require(module: str) -> Any:
    """Import one of the export extra's modules, or a one-line error naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ThermorlError(f"ONNX export needs {module}, which is not installed: "
                            f"{EXTRA_HINT}") from None


@dataclass(frozen=True)
class Signature:
    """Names, in order, of the graph's inputs and outputs, and what the graph needs to know
    about each."""

    obs: list[tuple[str, str | None]]  # (input name, entry name; None: a plain observation)
    masks: list[tuple[str, str]]  # (input name, head)
    heads: list[tuple[str, str]]  # (output name, head)
    state_size: int  # 0: not recurrent

    @property
    def inputs(self) -> list[str]:
        return ([n for n, _ in self.obs] + [n for n, _ in self.masks]
                + (["state_in"] if self.state_size else []))

    @property
    def outputs(self) -> list[str]:
        return [n for n, _ in self.heads] + (["state_out"] if self.state_size else [])


def _head_name(prefix: str, head: str, single: bool) -> str:
    return prefix if single else f"{prefix}/{head}"


def masked_heads(algo: Any) -> list[str]:
    """The heads the env masks: those a Dict observation's `action_mask` entry names, or else
    those in `info["action_mask"]` after a reset of one fresh env."""
    heads = list(algo.heads)
    space = algo.obs_space
    if isinstance(space, gym.spaces.Dict) and ACTION_MASK_KEY in space.spaces:
        m = space.spaces[ACTION_MASK_KEY]
        return list(m.spaces) if isinstance(m, gym.spaces.Dict) else heads[:1]
    envs = make_vector_env(algo.env_source, 1, algo.config.env_kwargs,
                           wrappers=algo.config.env_wrappers)
    try:
        _, info = envs.reset(seed=algo.config.seed)
    finally:
        envs.close()
    raw = info.get(ACTION_MASK_KEY)
    if raw is None:
        return []
    return [h for h in raw if not h.startswith("_")] if isinstance(raw, dict) else heads[:1]


def signature(algo: Any, masked: Sequence[str]) -> Signature:
    single = len(algo.heads) == 1 and SINGLE_HEAD in algo.heads
    keys = algo.obs_layout.keys
    obs = [("obs", None)] if keys is None else [(f"obs/{k}", k) for k in keys]
    masks = [(_head_name(ACTION_MASK_KEY, h, single), h) for h in algo.heads if h in masked]
    heads = [(_head_name("action", h, single), h) for h in algo.heads]
    state_size = algo.policy.actor_core.state_size if getattr(algo, "recurrent", False) else 0
    return Signature(obs, masks, heads, state_size)


class DeterministicActor(nn.Module):
    """`predict(deterministic=True)` as one torch module over plain tensors, the graph that is
    exported. Positional inputs and outputs in the order of `Signature.inputs` / `.outputs`."""

    def __init__(self, algo: Any, sig: Signature):
        super().__init__()
        self.sig = sig
        # a copy, so that moving the graph to the CPU leaves a policy on a GPU where it is
        net = algo.policy.actor if hasattr(algo.policy, "actor") else algo.policy  # SAC's actor
        self.net = copy.deepcopy(net)
        # the MLP body before the heads (and the core): SAC's actor calls it `body`, and reads
        # the critics' image encoder where there is one
        self.body = self.net.body if hasattr(self.net, "body") else self.net.actor_body
        encoder = getattr(algo.policy, "encoder", None)  # SACNets' (PPO's sit in its bodies)
        if encoder is not None:
            self.body = nn.Sequential(copy.deepcopy(encoder), *self.net.body)
        self.recurrent = sig.state_size > 0
        self.obs_spaces = [leaf.space for leaf in algo.obs_layout.leaves]
        self.specs: dict[str, HeadSpec] = dict(algo.heads)
        norm = algo.obs_norm
        if norm is not None:  # in float64, as the normalizer computes, so results match exactly
            self.register_buffer("obs_mean", torch.from_numpy(norm.rms.mean.copy()))
            self.register_buffer("obs_std", torch.from_numpy(np.sqrt(norm.rms.var + norm.eps)))
            self.obs_clip = float(norm.clip)
        self.norm = norm is not None
        for i, (_, head) in enumerate(sig.heads):  # head names may hold '/': buffers by index
            spec = self.specs[head]
            if spec.kind == "gaussian":
                self.register_buffer(f"low_{i}", torch.from_numpy(spec.low.copy()))
                self.register_buffer(f"high_{i}", torch.from_numpy(spec.high.copy()))

    def _flat_obs(self, xs: Sequence[Tensor]) -> Tensor:
        """`ObsLayout.flatten` (envs/spaces.py), in torch."""
        parts = []
        for x, s in zip(xs, self.obs_spaces):
            n = x.shape[0]
            if isinstance(s, gym.spaces.Discrete):
                idx = x.to(torch.int64).reshape(n, 1) - int(s.start)
                parts.append((idx == torch.arange(int(s.n))).to(torch.float32))
            elif isinstance(s, gym.spaces.MultiDiscrete):
                idx = x.to(torch.int64).reshape(n, -1)
                starts = np.asarray(s.start).reshape(-1)
                parts.extend((idx[:, i:i + 1] - int(starts[i]) == torch.arange(int(k)))
                             .to(torch.float32)
                             for i, k in enumerate(np.asarray(s.nvec).reshape(-1)))
            else:
                parts.append(x.to(torch.float32).reshape(n, -1))
        return parts[0] if len(parts) == 1 else torch.cat(parts, 1)

    def forward(self, *xs: Tensor) -> tuple[Tensor, ...]:
        n_obs, n_mask = len(self.sig.obs), len(self.sig.masks)
        obs = self._flat_obs(xs[:n_obs])
        if self.norm:
            z = (obs.to(torch.float64) - self.obs_mean) / self.obs_std
            obs = z.clamp(-self.obs_clip, self.obs_clip).to(torch.float32)
        masks = {head: m.to(torch.bool) for m, (_, head) in
                 zip(xs[n_obs:n_obs + n_mask], self.sig.masks)}
        if self.recurrent:
            state = xs[n_obs + n_mask]
            feat, state = self.net.actor_core(self.body(obs).unsqueeze(0), state)
            feat = feat[0]
        else:
            feat = self.body(obs)
        outs = [self._mode(i, head, feat, masks.get(head))
                for i, (_, head) in enumerate(self.sig.heads)]
        return tuple(outs + ([state] if self.recurrent else []))

    def _mode(self, i: int, name: str, feat: Tensor, mask: Tensor | None) -> Tensor:
        """Head `name`'s mode as the env takes it (`_send` in envs/spaces.py, in torch)."""
        spec, head = self.specs[name], self.net.heads[name]
        n = feat.shape[0]
        if spec.kind == "gaussian":
            a = head.mean(feat)
            low, high = getattr(self, f"low_{i}"), getattr(self, f"high_{i}")
            if spec.squash:
                a = low + (torch.tanh(a) + 1.0) * 0.5 * (high - low)
            else:
                a = torch.minimum(torch.maximum(a, low), high)
            return a.reshape((n,) + spec.shape)
        logits = head.logits(feat)
        if mask is not None:
            logits = logits.masked_fill(~mask, MASKED_LOGIT)
        if spec.kind == "categorical":
            return logits.argmax(-1) + spec.start
        picks = [c.argmax(-1) + s for c, s in zip(logits.split(list(spec.nvec), -1), spec.starts)]
        out = torch.stack(picks, -1).reshape((n,) + spec.shape)
        return out.to(torch.int8) if spec.binary else out


def example_inputs(algo: Any, sig: Signature, n: int = 2) -> tuple[Tensor, ...]:
    """Zeros of the right dtype and shape (all actions valid) for tracing."""
    xs: list[Tensor] = []
    for leaf in algo.obs_layout.leaves:
        s = leaf.space
        if isinstance(s, gym.spaces.Box):
            xs.append(torch.zeros((n,) + tuple(s.shape), dtype=torch.float32))
        else:  # the lowest value of each integer entry
            low = np.asarray(getattr(s, "start", 0), np.int64)
            xs.append(torch.from_numpy(np.broadcast_to(low, (n,) + tuple(s.shape)).copy()))
    for _, head in sig.masks:
        xs.append(torch.ones(n, algo.heads[head].n_logits, dtype=torch.bool))
    if sig.state_size:
        xs.append(torch.zeros(n, sig.state_size))
    return tuple(xs)


def describe(algo: Any, sig: Signature) -> dict[str, Any]:
    """What the model's metadata says about its inputs and outputs."""
    heads = {}
    for out, head in sig.heads:
        spec = algo.heads[head]
        heads[out] = {"head": head, "kind": spec.kind, "shape": [int(k) for k in spec.shape],
                     "dtype": "float32" if spec.kind == "gaussian"
                     else "int8" if spec.binary else "int64"}
        if spec.kind == "gaussian":
            heads[out]["squash"] = spec.squash
    return {"env_id": algo.config.env_id, "algo": algo.algo_name, "opset": OPSET,
            "inputs": sig.inputs, "outputs": sig.outputs, "heads": heads,
            "obs_dtypes": {name: "float32" if isinstance(leaf.space, gym.spaces.Box) else "int64"
                           for (name, _), leaf in zip(sig.obs, algo.obs_layout.leaves)},
            "masks": {name: head for name, head in sig.masks}, "state_size": sig.state_size,
            "obs_normalized": algo.obs_norm is not None}


def export_onnx(algo: Any, path: str | Path, masked: Sequence[str] | None = None,
                check: int = 256) -> dict[str, Any]:
    """Write `algo`'s deterministic actor to `path` as ONNX (see the module's docstring for the
    graph's inputs and outputs). `masked`: the heads that take a mask input (default: those the
    env masks). With `check` > 0, onnxruntime then acts on that many observations from the env
    and its actions are compared with `predict(deterministic=True)`'s; a mismatch is an error.
    Returns the description stored in the model's metadata, with the check's result."""
    onnx = require("onnx")
    require("onnxscript")
    masked = masked_heads(algo) if masked is None else list(masked)
    unknown = [h for h in masked if h not in algo.heads or not algo.heads[h].discrete]
    if unknown:
        raise ThermorlError(f"masked heads {unknown} are not discrete heads of this policy; "
                            f"its discrete heads: {[h for h, s in algo.heads.items() if s.discrete]}")
    sig = signature(algo, masked)
    actor = DeterministicActor(algo, sig).cpu().eval()
    args = example_inputs(algo, sig)
    batch = torch.export.Dim("batch", min=1)
    dynamic = tuple({0: batch} for _ in args)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with warnings.catch_warnings(), torch.no_grad(), _quiet("torch.onnx"):
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        prog = torch.onnx.export(actor, args, input_names=sig.inputs, output_names=sig.outputs,
                                 opset_version=OPSET, dynamo=True, dynamic_shapes=(dynamic,),
                                 verbose=False)
    model = prog.model_proto
    info = describe(algo, sig)
    entry = model.metadata_props.add()
    entry.key, entry.value = "thermorl", json.dumps(info)
    try:
        onnx.save(model, str(tmp))
        if check:
            info["check"] = check_onnx(algo, tmp, check)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)  # a failed check leaves nothing behind
    return info


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """The exporter logs a warning per missing optional operator library (torchvision's);
    none of them concern an actor, so they are held back while it runs."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _session(path: str | Path) -> Any:
    ort = require("onnxruntime")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _feeds(meta: dict[str, Any], obs: Any, masks: dict[str, np.ndarray], n: int,
           state: np.ndarray | None) -> dict[str, np.ndarray]:
    """The graph's inputs from a batch of `n` env observations, masks by head and a state."""
    out: dict[str, np.ndarray] = {}
    dtypes = meta.get("obs_dtypes", {})
    for name in meta["inputs"]:
        if name == "obs" or name.startswith("obs/"):
            x = obs
            for part in name.split(SEP)[1:]:  # a Tuple's positions are numbers in the name
                x = x[part] if isinstance(x, Mapping) else x[int(part)]
            x = np.asarray(x)
            # a model exported before `obs_dtypes`: integer Dict entries were int64
            old = "int64" if name != "obs" and np.issubdtype(x.dtype, np.integer) else "float32"
            out[name] = x.astype(dtypes.get(name, old))
        elif name == "state_in":
            out[name] = np.asarray(state, np.float32)
        else:
            out[name] = np.asarray(masks[meta["masks"][name]], bool).reshape(n, -1)
    return out


def read_meta(path: str | Path) -> dict[str, Any]:
    """The description `export_onnx` stored in a model's metadata."""
    onnx = require("onnx")
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    if "thermorl" not in props:
        raise ThermorlError(f"{str(path)!r} is not a model thermorl exported (no 'thermorl' "
                            f"metadata)")
    return json.loads(props["thermorl"])


def check_onnx(algo: Any, path: str | Path, n: int, num_envs: int = 4) -> dict[str, Any]:
    """Step `num_envs` fresh envs for `n` observations in all, acting by
    `predict(deterministic=False)` so that the states visited vary, and at every step compare
    onnxruntime's actions on the batch with `predict(deterministic=True)`'s (a recurrent graph
    carrying its own state alongside predict's). Discrete actions must be equal, continuous ones
    within 1e-4 (float32 matmuls in another library); a mismatch is an error naming the head.
    Returns how many observations were compared and the largest continuous difference."""
    sess = _session(path)
    meta = read_meta(path)
    recurrent = meta["state_size"] > 0
    envs = make_vector_env(algo.env_source, num_envs, algo.config.env_kwargs,
                           wrappers=algo.config.env_wrappers)
    gen = torch.Generator(algo.device).manual_seed(algo.config.seed + 7)
    worst, seen = 0.0, 0
    state = None
    ort_state = np.zeros((num_envs, meta["state_size"]), np.float32)
    try:
        obs, info = envs.reset(seed=algo.config.seed + 7)
        # vector envs reset an ended episode on the step after it ends, so the observation
        # after an ended step is a first one
        starts, ended = np.ones(num_envs, bool), np.zeros(num_envs, bool)
        while seen < n:
            given = info.get(ACTION_MASK_KEY)
            kw = {"action_mask": given, "state": state, "episode_start": starts}
            want = algo.predict(obs, deterministic=True, **kw)
            act = algo.predict(obs, deterministic=False, generator=gen, **kw)
            if recurrent:
                (want, state), act = want, act[0]
                ort_state[starts] = 0.0
            got = sess.run(meta["outputs"], _feeds(meta, obs, _masks_of(algo, obs, info),
                                                   num_envs, ort_state))
            if recurrent:
                ort_state = got[-1]
            worst = max(worst, _compare(want, got, meta))
            seen += num_envs
            obs, _, term, trunc, info = envs.step(act)
            starts, ended = ended, np.asarray(term) | np.asarray(trunc)
    finally:
        envs.close()
    return {"observations": seen, "max_abs_diff": worst}


def _masks_of(algo: Any, obs: Any, info: dict[str, Any]) -> dict[str, np.ndarray]:
    from .envs.masks import read_masks

    n = algo.obs_layout.count(obs)
    return read_masks(info, obs, algo.heads, n, 0)


def _compare(want: Any, got: list[np.ndarray], meta: dict[str, Any]) -> float:
    worst = 0.0
    flat = _flatten_action(want)
    for out, arr in zip(meta["outputs"], got):
        if out == "state_out":
            continue
        head = meta["heads"][out]["head"]
        exp = np.asarray(flat[head])
        if meta["heads"][out]["kind"] == "gaussian":
            d = float(np.max(np.abs(exp - arr))) if exp.size else 0.0
            if not d <= 1e-4:
                raise ThermorlError(f"exported policy disagrees with predict on head {head!r} "
                                    f"by {d:.3g}")
            worst = max(worst, d)
        elif not np.array_equal(exp, arr):
            raise ThermorlError(f"exported policy picks other actions than predict on head "
                                f"{head!r}")
    return worst


def _flatten_action(action: Any) -> dict[str, Any]:
    """The env's (batched) action structure back to arrays by head name."""
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}{k}/")
        elif isinstance(node, tuple):
            for i, v in enumerate(node):
                walk(v, f"{prefix}{i}/")
        else:
            out[prefix[:-1] if prefix else SINGLE_HEAD] = node

    walk(action, "")
    return out


__all__ = ["OPSET", "DeterministicActor", "check_onnx", "export_onnx", "masked_heads"]
