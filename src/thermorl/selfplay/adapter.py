"""The two-agent adapter: N copies of a two-agent PettingZoo parallel env seen as one gymnasium
vector env, in which the learner plays one seat and an opponent the other.

**Seats.** The learner does not always fly the same seat: env `i` starts with the learner in
seat `i % 2`, and the seats swap at every episode end. Its snapshots become opponents in the
other seat, which is only sound if the learner knows both; in a symmetric game (Dogfight) a seat
costs nothing to learn, and in an asymmetric one the env's observation must say which seat an
agent holds. With an even number of envs every rollout holds both seats in equal numbers.

**Whose experience trains.** Only the learner's seat is returned as the vector env's steps, so
only the learner's own actions train it. The opponent acts from older weights (or a script):
its steps would be off-policy for PPO's ratio, whose denominator must be the probability under
the policy that acted.

**Opponents.** `set_opponent(name, opponent)`: `opponent` is `SCRIPTED` (the env's own scripted
pilot, from `env.scripted_opponent(agent)`, a fresh one per episode) or a function of (the
opponent's observations, their infos) for the envs that step, returning one action each
(`PolicyOpponent`: a frozen network). A change of opponent takes effect at the next step of
every env; a duel played by more than one opponent is reported as mixed, so ratings can skip it.

**Autoreset** is gymnasium's next-step mode, as thermorl's collector expects: the step after an
episode's end resets that env, ignores its action and returns reward 0.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from ..envs.masks import read_masks
from ..envs.spaces import ACTION_MASK_KEY, ActionLayout, ObsLayout
from ..envs.vector import _check_import_allowed
from ..errors import EnvError
from .pool import SCRIPTED

# two-agent versions of thermorl's single-agent env ids
PARALLEL_ENVS = {"thermorl/Dogfight-v0": "thermorl.envs.dogfight.parallel:DogfightParallelEnv"}
SCORE = {"win": 1.0, "draw": 0.5, "loss": 0.0}
FLIP = {"win": "loss", "loss": "win", "draw": "draw"}

ParallelFactory = Callable[[], Any]
# (the opponent's observations, their infos) of the envs that step -> one action each
OpponentFn = Callable[[Sequence[Any], Sequence[Mapping[str, Any]]], list[Any]]


def parallel_factory(source: Any, env_kwargs: Mapping[str, Any] | None = None
                     ) -> ParallelFactory:
    """A function making one two-agent parallel env from `source`: a callable returning one (the
    Python API), a thermorl env id with a two-agent version (thermorl/Dogfight-v0), or
    `module:factory` naming such a function (its module imported as `module:EnvId` ids are).
    `env_kwargs` are passed to it."""
    kwargs = dict(env_kwargs or {})
    if callable(source):
        return functools.partial(source, **kwargs)
    if not isinstance(source, str):
        raise EnvError(f"self-play env {source!r}: expected an env id or a factory")
    target = PARALLEL_ENVS.get(source, source)
    if ":" not in target:
        raise EnvError(f"self-play needs a two-agent env, and {source!r} has none; accepted: "
                       f"{', '.join(PARALLEL_ENVS)}, or module:factory naming a function that "
                       f"returns a PettingZoo ParallelEnv")
    module, _, name = target.partition(":")
    if source not in PARALLEL_ENVS:
        _check_import_allowed(source, module)
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        hint = (' (thermorl\'s extra: pip install -e ".[multiagent]")'
                if "pettingzoo" in str(e) else "")
        raise EnvError(f"self-play env {source!r}: cannot import module {module!r} ({e})"
                       f"{hint}") from None
    fn = getattr(mod, name, None)
    if not callable(fn):
        raise EnvError(f"self-play env {source!r}: module {module!r} has no function {name!r} "
                       f"(module:factory names a function returning a PettingZoo ParallelEnv)")
    return functools.partial(fn, **kwargs)


def two_agents(env: Any, source: Any = "the env") -> tuple[str, str]:
    """The two agents of a parallel env whose agents share observation and action spaces;
    anything else is an EnvError saying what differs."""
    agents = list(getattr(env, "possible_agents", None) or [])
    if not (hasattr(env, "reset") and hasattr(env, "step") and agents):
        raise EnvError(f"self-play env {source!r} made a {type(env).__name__}, not a PettingZoo "
                       f"ParallelEnv (possible_agents, reset, step)")
    if len(agents) != 2:
        raise EnvError(f"self-play env {source!r} has {len(agents)} agents ({agents}); "
                       f"self-play needs a two-agent zero-sum game")
    a, b = agents
    for kind in ("observation_space", "action_space"):
        sa, sb = getattr(env, kind)(a), getattr(env, kind)(b)
        if sa != sb:
            raise EnvError(f"self-play env {source!r}: agents {a!r} and {b!r} have different "
                           f"{kind.replace('_', ' ')}s ({sa} vs {sb}); self-play needs the "
                           f"agents to share spaces (one network plays both seats)")
    return a, b


def judged(info: Mapping[str, Any], mine: float, theirs: float) -> str:
    """A finished duel's outcome for the seat whose final `info` this is: the env's own
    (`info["outcome"]`), or for an env without outcomes, the higher return wins."""
    outcome = info.get("outcome")
    if outcome in SCORE:
        return str(outcome)
    return "win" if mine > theirs else "loss" if mine < theirs else "draw"


class Duel(NamedTuple):
    """One finished episode: the opponent that started it, the learner's outcome, and whether
    another opponent took over before it ended."""

    opponent: str
    outcome: str
    mixed: bool


class TwoAgentVectorEnv(gym.vector.VectorEnv):
    """`num_envs` copies of the parallel env made by `make_env`, stepped with the learner's
    batched action for its seat and the opponent's for the other. Episodes finished since the
    last `take_duels()` wait there. Its state (`state_dict`) is the learner's seats (which a
    seeded reset sets back to `i % 2`). `max_episode_steps` cuts a duel that lasts longer
    (truncated, judged as any finished duel): a PettingZoo env's own time limit, if it has one,
    is invisible from outside, so an evaluation that must end passes the cap whatever the env."""

    def __init__(self, make_env: ParallelFactory, num_envs: int, source: Any = "the env",
                 max_episode_steps: int | None = None):
        self.envs = [make_env() for _ in range(num_envs)]
        self.max_episode_steps = max_episode_steps
        self._steps = np.zeros(num_envs, int)
        self.agents = two_agents(self.envs[0], source)
        self.source = source
        first = self.envs[0]
        self.num_envs = num_envs
        self.single_observation_space = first.observation_space(self.agents[0])
        self.single_action_space = first.action_space(self.agents[0])
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}
        self.render_mode = None
        self.seat = np.arange(num_envs) % 2  # the learner's seat (index into agents) per env
        self.opponent: Any = None
        self.opponent_name: str | None = None
        self._opp_obs: list[Any] = [None] * num_envs
        self._opp_info: list[Mapping[str, Any]] = [{}] * num_envs
        self._pilots: dict[int, Callable[[Any, Any], Any]] = {}
        self._needs_reset = np.zeros(num_envs, bool)
        self._started_with: list[str | None] = [None] * num_envs
        self._mixed = np.zeros(num_envs, bool)
        self._returns = np.zeros((num_envs, 2))  # learner, opponent: for envs without outcomes
        self._duels: list[Duel] = []

    @property
    def has_scripted(self) -> bool:
        return callable(getattr(self.envs[0], "scripted_opponent", None))

    def set_opponent(self, name: str, opponent: Any) -> None:
        """From the next step on, `opponent` (SCRIPTED, or an `OpponentFn`) called `name` plays
        the other seat of every env. An episode under way becomes mixed unless the name stays
        the same (a snapshot drawn again; `latest` is new weights, so always a change)."""
        if opponent == SCRIPTED and not self.has_scripted:
            raise EnvError(f"self-play env {self.source!r} offers no scripted opponent (a "
                           f"scripted_opponent(agent) method); accepted: "
                           f"selfplay.scripted_weight 0")
        if name != self.opponent_name or name == "latest":
            self._mixed[:] = True
        self.opponent, self.opponent_name = opponent, name
        self._pilots.clear()

    def take_duels(self) -> list[Duel]:
        """The duels finished since the last call, in the order they finished."""
        out, self._duels = self._duels, []
        return out

    # -- the vector env -------------------------------------------------------------------
    def _begin(self, i: int, seed: int | None) -> tuple[Any, dict[str, Any]]:
        obs, infos = self.envs[i].reset(seed=seed)
        me, opp = self.agents[self.seat[i]], self.agents[1 - self.seat[i]]
        self._opp_obs[i], self._opp_info[i] = obs[opp], infos.get(opp, {})
        self._pilots.pop(i, None)
        self._started_with[i] = self.opponent_name
        self._mixed[i] = False
        self._returns[i] = 0.0
        self._steps[i] = 0
        self._needs_reset[i] = False
        return obs[me], dict(infos.get(me, {}))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Every env starts a new duel (env i seeded with `seed + i`). A seeded reset also puts
        the learner back in seat `i % 2`, so that evaluations from the same seed play the same
        duels; without a seed the seats stay as they are."""
        if seed is not None:
            self.seat = np.arange(self.num_envs) % 2
        vec_info: dict[str, Any] = {}
        obs = []
        for i in range(self.num_envs):
            o, info = self._begin(i, None if seed is None else seed + i)
            obs.append(o)
            vec_info = self._add_info(vec_info, info, i)
        return self._stack(obs), vec_info

    def step(self, actions: Any):
        n = self.num_envs
        mine = list(iterate(self.action_space, actions))
        live = [i for i in range(n) if not self._needs_reset[i]]
        theirs = dict(zip(live, self._opponent_actions(live)))
        obs, vec_info = [], {}
        rewards = np.zeros(n)
        term, trunc = np.zeros(n, bool), np.zeros(n, bool)
        for i in range(n):
            if self._needs_reset[i]:
                self.seat[i] = 1 - self.seat[i]
                o, info = self._begin(i, None)
            else:
                o, rewards[i], term[i], trunc[i], info = self._step_one(i, mine[i], theirs[i])
            obs.append(o)
            vec_info = self._add_info(vec_info, info, i)
        return self._stack(obs), rewards, term, trunc, vec_info

    def _step_one(self, i: int, mine: Any, theirs: Any) -> tuple[Any, float, bool, bool, dict]:
        me, opp = self.agents[self.seat[i]], self.agents[1 - self.seat[i]]
        obs, rew, terms, truncs, infos = self.envs[i].step({me: mine, opp: theirs})
        r_me, r_opp = float(rew.get(me, 0.0)), float(rew.get(opp, 0.0))
        self._returns[i] += (r_me, r_opp)
        self._opp_obs[i], self._opp_info[i] = obs.get(opp), infos.get(opp, {})
        info = dict(infos.get(me, {}))
        terminated, truncated = bool(terms.get(me, False)), bool(truncs.get(me, False))
        self._steps[i] += 1
        truncated = truncated or (self.max_episode_steps is not None
                                  and self._steps[i] >= self.max_episode_steps)
        if terminated or truncated or not self.envs[i].agents:
            outcome = info["outcome"] = judged(info, *self._returns[i])
            self._duels.append(Duel(str(self._started_with[i]), outcome, bool(self._mixed[i])))
            self._needs_reset[i] = True
            truncated = truncated or not terminated  # an env whose agents left without a flag
        return obs[me], r_me, terminated, truncated, info

    def _opponent_actions(self, live: list[int]) -> list[Any]:
        if not live:
            return []
        if self.opponent is None:
            raise EnvError("TwoAgentVectorEnv.step: no opponent set (set_opponent)")
        if self.opponent == SCRIPTED:
            out = []
            for i in live:
                if i not in self._pilots:
                    self._pilots[i] = self.envs[i].scripted_opponent(
                        self.agents[1 - self.seat[i]])
                out.append(self._pilots[i](self._opp_obs[i], self._opp_info[i]))
            return out
        return list(self.opponent([self._opp_obs[i] for i in live],
                                  [self._opp_info[i] for i in live]))

    def _stack(self, obs: list[Any]) -> Any:
        space = self.single_observation_space
        return concatenate(space, obs, create_empty_array(space, len(obs)))

    def state_dict(self) -> dict[str, Any]:
        return {"seat": torch.as_tensor(self.seat.copy())}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        seat = np.asarray(state["seat"].cpu().numpy() if torch.is_tensor(state["seat"])
                          else state["seat"]).astype(int)
        if seat.shape != self.seat.shape:
            raise ValueError(f"seats for {len(seat)} envs, this vector env has {self.num_envs}")
        self.seat = seat

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()


class PolicyOpponent:
    """A frozen network as an opponent: `policy` (an `ActorCritic`, loaded with whatever weights
    the caller puts in it) acts on the opponent's observations, prepared as the learner's are
    (flattened, normalized by `obs_norm` without updating it) and under its own action masks;
    it samples from `generator` (the mode if `deterministic`)."""

    def __init__(self, policy: torch.nn.Module, obs_space: gym.Space, action_space: gym.Space,
                 action_layout: ActionLayout, obs_norm: Any, device: torch.device,
                 generator: torch.Generator, deterministic: bool = False):
        self.policy, self.obs_space, self.action_space = policy, obs_space, action_space
        self.obs_layout, self.action_layout = ObsLayout(obs_space), action_layout
        self.obs_norm, self.device = obs_norm, device
        self.generator, self.deterministic = generator, deterministic

    @torch.inference_mode()
    def __call__(self, obs: Sequence[Any], infos: Sequence[Mapping[str, Any]]) -> list[Any]:
        n = len(obs)
        batch = concatenate(self.obs_space, obs, create_empty_array(self.obs_space, n))
        flat = self.obs_layout.flatten(batch)
        if self.obs_norm is not None:
            flat = self.obs_norm(flat, False)
        masks = read_masks(_stack_masks(infos), batch, self.action_layout.heads, n, 0)
        x = torch.as_tensor(flat, dtype=torch.float32, device=self.device)
        dist = self.policy.dist(x, {k: torch.as_tensor(m, device=self.device)
                                    for k, m in masks.items()})
        acts = dist.mode() if self.deterministic else dist.sample(self.generator)
        env_act = self.action_layout.to_env({k: v.cpu().numpy() for k, v in acts.items()})
        return list(iterate(batch_space(self.action_space, n), env_act))


def _stack_masks(infos: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The per-env `action_mask` entries as one batched info (envs without one: all valid)."""
    given = [info.get(ACTION_MASK_KEY) for info in infos]
    if all(m is None for m in given):
        return {}
    first = next(m for m in given if m is not None)
    present = np.array([m is not None for m in given])
    if isinstance(first, Mapping):
        stacked = {k: np.stack([np.asarray(m[k]) if m is not None
                                else np.ones_like(np.asarray(first[k])) for m in given])
                   for k in first}
    else:
        stacked = np.stack([np.asarray(m) if m is not None else np.ones_like(np.asarray(first))
                            for m in given])
    return {ACTION_MASK_KEY: stacked, "_" + ACTION_MASK_KEY: present}
