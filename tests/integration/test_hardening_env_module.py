"""Loading a checkpoint imports no module the caller did not ask for: a run's `module:EnvId`
is imported only when the caller passes that env or opts in (`trust_env_module=True`, CLI
`--trust-env-module`). The module here writes a marker file when imported."""

import itertools

import pytest
import yaml

import thermorl
from thermorl import checkpoint
from thermorl.errors import EnvError

_names = itertools.count()


@pytest.fixture
def marker_env(tmp_path, monkeypatch):
    """(module name, marker path): a module on sys.path, never imported yet, that registers
    Marker/CartPole-v0 and Marker/Pendulum-v0 and writes the marker when imported."""
    name = f"thermorl_marker_{next(_names)}"
    marker = tmp_path / "MARKER"
    (tmp_path / f"{name}.py").write_text(
        "import pathlib\nimport gymnasium as gym\n"
        f"pathlib.Path({str(marker)!r}).write_text('imported')\n"
        "for n, e, t in [('CartPole', 'cartpole:CartPoleEnv', 50),\n"
        "                ('Pendulum', 'pendulum:PendulumEnv', 20)]:\n"
        "    if f'Marker/{n}-v0' not in gym.registry:\n"
        "        gym.register(f'Marker/{n}-v0', max_episode_steps=t,\n"
        "                     entry_point=f'gymnasium.envs.classic_control.{e}')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name, marker


def saved_run(tmp_path, env_id, algo="ppo", **env_kwargs):
    """A run directory whose checkpoint names `env_id`, written without importing its module:
    a CartPole (or Pendulum) run whose config is then given that env id."""
    base = "CartPole-v1" if algo == "ppo" else "Pendulum-v1"
    cls = thermorl.PPO if algo == "ppo" else thermorl.SAC
    extra = ({"ppo.num_envs": 2} if algo == "ppo" else {"sac.buffer_size": 64})
    cfg = thermorl.make_config(base, algo=algo, **{"log.progress": "off", "eval.episodes": 1,
                                                     "total_timesteps": 256, **extra})
    run = tmp_path / f"run-{algo}"
    path = cls(base, cfg).save(run / "checkpoints" / "latest.pt")
    state = checkpoint.load(path)
    data = yaml.safe_load(state["config"])
    data["env_id"], data["env_kwargs"] = env_id, env_kwargs
    state["config"] = yaml.safe_dump(data)
    checkpoint.save(state, path)
    (run / "config.yaml").write_text(state["config"])
    return run


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_load_does_not_import_the_runs_env_module(tmp_path, marker_env, algo):
    module, marker = marker_env
    env_id = f"{module}:Marker/{'CartPole' if algo == 'ppo' else 'Pendulum'}-v0"
    run = saved_run(tmp_path, env_id, algo)
    cls = thermorl.PPO if algo == "ppo" else thermorl.SAC
    with pytest.raises(EnvError) as e:
        cls.load(run)
    msg = str(e.value)
    assert len(msg.splitlines()) == 1 and str(run / "checkpoints" / "latest.pt") in msg
    assert f"would import module {module!r}" in msg
    assert "trust_env_module=True" in msg and "--trust-env-module" in msg
    assert not marker.exists()
    # opting in imports it
    cls.load(run, trust_env_module=True).close()
    assert marker.exists()


def test_passing_the_env_is_asking_for_its_module(tmp_path, marker_env):
    module, marker = marker_env
    env_id = f"{module}:Marker/CartPole-v0"
    run = saved_run(tmp_path, env_id)
    algo = thermorl.PPO.load(run, env=env_id)
    assert marker.exists() and algo.evaluate(1)["episodes"] == 1


def test_a_factory_imports_nothing(tmp_path, marker_env):
    import gymnasium as gym

    module, marker = marker_env
    run = saved_run(tmp_path, f"{module}:Marker/CartPole-v0")
    thermorl.PPO.load(run, env=lambda: gym.make("CartPole-v1")).close()
    assert not marker.exists()


def test_an_env_id_inside_env_kwargs_is_not_imported_either(tmp_path, marker_env):
    module, marker = marker_env
    run = saved_run(tmp_path, "thermorl/MaskObservation-v0",
                    env=f"{module}:Marker/CartPole-v0", hide=[1])
    with pytest.raises(EnvError, match=f"would import module {module!r}"):
        thermorl.PPO.load(run)
    assert not marker.exists()


def test_cli_eval_and_resume_need_the_flag(tmp_path, marker_env, run_cli):
    module, marker = marker_env
    run = saved_run(tmp_path, f"{module}:Marker/CartPole-v0")
    for argv in (["eval", run, "--episodes", "1"], ["train", "--resume", run]):
        res = run_cli(*argv)
        assert res.rc == 2 and len(res.err.strip().splitlines()) == 1, res
        assert f"would import module {module!r}" in res.err and "--trust-env-module" in res.err
        assert not marker.exists()
    res = run_cli("eval", run, "--episodes", "1", "--trust-env-module")
    assert res.rc == 0 and marker.exists(), res
    res = run_cli("train", "--resume", run, "--trust-env-module")
    assert res.rc == 0, res


def test_the_printed_resume_command_trusts_the_module_the_user_chose(tmp_path):
    from thermorl.cli import _resume_command

    from thermorl.config import Config

    assert _resume_command(tmp_path, Config()) == f"thermorl train --resume {tmp_path}"
    trusted = f"thermorl train --resume {tmp_path} --trust-env-module"
    assert _resume_command(tmp_path, Config(env_id="my_pkg.envs:MyEnv-v0")) == trusted
    # a wrapper from the user's module is theirs too; gymnasium's are not
    assert _resume_command(tmp_path, Config(env_wrappers=["ClipReward"])) == (
        f"thermorl train --resume {tmp_path}")
    assert _resume_command(tmp_path, Config(env_wrappers=[{"my_pkg:W": {"k": 1}}])) == trusted
