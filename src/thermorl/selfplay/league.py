"""The league of a self-play run: its opponent pool, its Elo table and the opponent its training
envs face, advanced by the training loop once per update.

Per update, in this order: the duels finished during the rollout update the ratings (each
against the opponent that started it; duels against `latest`, the learner's own weights, and
duels another opponent took over midway leave the ratings alone); then a snapshot if
`save_steps` was reached (it enters the table at the learner's rating, as ML-Agents' snapshots
do, and is written to `snapshots/` in the run directory); then a draw if `swap_steps` was.
Everything it holds is in `state_dict`, so a resumed run meets the same opponents and keeps its
table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import torch

from .. import checkpoint
from ..collect.evaluation import Evaluator
from ..errors import EnvError
from ..nets import ActorCritic
from .adapter import SCORE, PolicyOpponent, TwoAgentVectorEnv
from .elo import Ratings
from .pool import LATEST, SCRIPTED, OpponentPool

if TYPE_CHECKING:
    from ..algos.base import Algorithm

LEARNER = "learner"
OUTCOMES = ("win", "draw", "loss")


def outcome_rates(outcomes: list[str]) -> dict[str, float]:
    """The fraction of each of win, draw, loss (all three, zeros included)."""
    return {o: outcomes.count(o) / len(outcomes) for o in OUTCOMES}


class League:
    """Built by a self-play algorithm once its policy exists; `algo.envs` must be the
    `TwoAgentVectorEnv` the run trains on."""

    def __init__(self, algo: Algorithm):
        cfg, sp = algo.config, algo.config.selfplay
        self.cfg = sp
        self.algo = algo
        self.envs: TwoAgentVectorEnv = algo.envs
        self.run_dir: Path | None = algo.run_dir
        if sp.scripted_weight > 0 and not self.envs.has_scripted:
            raise EnvError(f"selfplay.scripted_weight={sp.scripted_weight}, but env "
                           f"{cfg.env_id!r} offers no scripted opponent (a "
                           f"scripted_opponent(agent) method); accepted: scripted_weight 0")
        self.pool = OpponentPool(sp.save_steps, sp.swap_steps, sp.window, sp.latest_ratio,
                                 sp.scripted_weight, seed=cfg.seed)
        self.ratings = Ratings(k=sp.elo_k)
        self.ratings.enter(LEARNER, self.ratings.initial)
        self.generator = torch.Generator(algo.device).manual_seed(cfg.seed + 2)
        # the opponent's network: a second copy of the learner's, for the frozen weights
        self.opponent_policy = self._copy_policy()
        self.opponent = self._policy_opponent(self.opponent_policy, self.generator)
        self._latest: dict[str, torch.Tensor] | None = None  # the weights `latest` plays with
        self._set(LATEST, algo.policy.state_dict())
        self._eval_policy: ActorCritic | None = None
        self._eval_opponent: PolicyOpponent | None = None
        self._pool_evaluator: Evaluator | None = None
        self._gate_score: float | None = None  # this update's, when a gate was played

    def _copy_policy(self) -> ActorCritic:
        a = self.algo
        with torch.random.fork_rng(devices=[]):  # its initial weights are overwritten anyway
            net = ActorCritic(a.obs_dim, a.heads, a.config.policy, a.used_when,
                              a.image).to(a.device)
        return net.requires_grad_(False)

    def _policy_opponent(self, policy: torch.nn.Module, gen: torch.Generator,
                         deterministic: bool = False) -> PolicyOpponent:
        a = self.algo
        return PolicyOpponent(policy, a.obs_space, a.action_space, a.action_layout, a.obs_norm,
                              a.device, gen, deterministic)

    def _set(self, name: str, weights: Mapping[str, torch.Tensor] | None = None) -> None:
        """Make `name` the training envs' opponent (`weights` for latest)."""
        if name == SCRIPTED:
            self.envs.set_opponent(SCRIPTED, SCRIPTED)
            self._latest = None
            return
        if name == LATEST:
            self._latest = {k: v.detach().to("cpu", copy=True) for k, v in weights.items()}
            weights = self._latest
        else:
            self._latest = None
            weights = self.pool.weights(name)
        self.opponent_policy.load_state_dict(weights)
        self.envs.set_opponent(name, self.opponent)

    # -- once per update ------------------------------------------------------------------
    def after_update(self, step: int, policy: torch.nn.Module) -> dict[str, float]:
        duels = self.envs.take_duels()
        for d in duels:
            if not d.mixed and d.opponent != LATEST:
                self.ratings.record(LEARNER, d.opponent, SCORE[d.outcome])
        self._gate_score = None
        admit = self._gate if self.cfg.gate > 0 else None
        if self.pool.maybe_snapshot(step, policy.state_dict(), admit):
            name = self.pool.snapshots[-1]
            self.ratings.enter(name, self.ratings.rating(LEARNER))
            self._write_snapshot(name, step)
        name = self.pool.maybe_swap(step)
        if name is not None:
            self._set(name, policy.state_dict() if name == LATEST else None)
        current = self.pool.current
        out = {"selfplay/elo": self.ratings.rating(LEARNER),
               "selfplay/opponent_elo": self.ratings.rating(
                   LEARNER if current == LATEST else current),
               "selfplay/snapshots": float(len(self.pool.snapshots))}
        if self._gate_score is not None:
            out["selfplay/gate_score"] = self._gate_score
        if duels:
            rates = outcome_rates([d.outcome for d in duels])
            out.update({f"selfplay/{o}": r for o, r in rates.items()})
        return out

    def _gate(self, newest: str) -> bool:
        """Whether the learner, as it is now, earns a place in the pool: its score in
        `gate_duels` duels against the pool's `newest` snapshot, both acting with their modes
        (as `thermorl ladder` rates them), seated alternately, seeded by the step."""
        a = self.algo
        outcomes = self._play([newest], self.cfg.gate_duels,
                              a.config.seed + 40_000 + a.global_step, True, True)
        self._gate_score = sum(SCORE[o] for o in outcomes) / len(outcomes)
        return self._gate_score >= self.cfg.gate

    def _write_snapshot(self, name: str, step: int) -> None:
        if self.run_dir is None:
            return
        checkpoint.save({"kind": "selfplay-snapshot", "global_step": step,
                         "policy": self.pool.weights(name)},
                        self.run_dir / "snapshots" / f"{name}.pt")

    # -- evaluation -----------------------------------------------------------------------
    def eval_envs(self, n: int) -> TwoAgentVectorEnv:
        """The envs of the run's own evaluation (`evaluate()`, final_eval, best.pt): against
        the scripted opponent where the env has one, else against the learner itself (its
        current weights, sampling)."""
        a = self.algo
        envs = TwoAgentVectorEnv(a.parallel_factory, n, a.config.env_id,
                                 a.config.eval.max_episode_steps)
        if envs.has_scripted:
            envs.set_opponent(SCRIPTED, SCRIPTED)
        else:
            gen = torch.Generator(a.device).manual_seed(a.config.seed + 3)
            envs.set_opponent(LATEST, self._policy_opponent(a.policy, gen))
        return envs

    def eval_metrics(self, ev: Mapping[str, Any]) -> dict[str, float]:
        """`eval/vs_scripted/<outcome>` from the run's evaluation `ev` (when it was against the
        scripted opponent), and `eval/vs_pool/<outcome>` from `eval_duels` duels shared among
        the window's snapshots (the newest first when there are more snapshots than duels)."""
        out: dict[str, float] = {}
        if self.envs.has_scripted and ev.get("outcomes"):
            out.update({f"eval/vs_scripted/{o}": ev["outcomes"].get(o, 0.0) for o in OUTCOMES})
        outcomes = self.play_pool(self.cfg.eval_duels, self.algo.config.seed + 20_000)
        if outcomes:
            out.update({f"eval/vs_pool/{o}": r for o, r in outcome_rates(outcomes).items()})
        return out

    def play_pool(self, duels: int, seed: int) -> list[str]:
        """The learner's outcomes (in no particular order) in `duels` duels against the
        window's snapshots, each sampling its actions (the learner acts as `eval.deterministic`
        says)."""
        return self._play(self.pool.snapshots[::-1][:duels], duels,  # newest first
                          seed, self.algo.config.eval.deterministic, False)

    def _play(self, snaps: list[str], duels: int, seed: int, learner_mode: bool,
              opponent_mode: bool) -> list[str]:
        """The learner's outcomes in `duels` duels shared among the snapshots `snaps`, each
        side acting with its mode or sampling as `learner_mode` and `opponent_mode` say."""
        if not snaps:
            return []
        a = self.algo
        if self._pool_evaluator is None:
            self._eval_policy = self._copy_policy()
            self._eval_opponent = self._policy_opponent(self._eval_policy,
                                                        torch.Generator(a.device))

            def make(n: int) -> TwoAgentVectorEnv:
                envs = TwoAgentVectorEnv(a.parallel_factory, n, a.config.env_id,
                                         a.config.eval.max_episode_steps)
                envs.set_opponent("pool", self._eval_opponent)
                return envs

            self._pool_evaluator = Evaluator(make, a.obs_layout, a.action_layout, a.device,
                                             a.obs_norm, clock=lambda: a.global_step)
        outcomes: list[str] = []
        for i, name in enumerate(snaps):
            k = (duels + i) // len(snaps)
            self._eval_policy.load_state_dict(self.pool.weights(name))
            self._eval_opponent.generator.manual_seed(seed + i)
            self._eval_opponent.deterministic = opponent_mode
            res = self._pool_evaluator.run(a._policy_act, a._initial_state, a._make_noise, k,
                                           learner_mode, seed + i)
            outcomes += [o for o, c in res.get("outcome_counts", {}).items() for _ in range(c)]
        return outcomes

    def table(self) -> list[dict[str, Any]]:
        """The Elo table, strongest first."""
        return [{"player": n, "elo": round(r, 1), "games": g} for n, r, g in self.ratings.table()]

    def close(self) -> None:
        if self._pool_evaluator is not None:
            self._pool_evaluator.close()

    # -- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"pool": self.pool.state_dict(), "ratings": self.ratings.state_dict(),
                "latest": self._latest, "generator": self.generator.get_state(),
                "envs": self.envs.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.pool.load_state_dict(state["pool"])
        self.ratings.load_state_dict(state["ratings"])
        self.envs.load_state_dict(state["envs"])
        current = self.pool.current
        self._set(current, state["latest"] if current == LATEST else None)
        checkpoint.restore_generator(self.generator, state["generator"],
                                     self.generator.initial_seed() + 1)
