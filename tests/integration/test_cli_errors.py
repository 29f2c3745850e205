"""Every input a user can get wrong: exit code 2, one line on stderr, no traceback."""

from __future__ import annotations

import pytest


def assert_one_line_error(r, *needles: str) -> str:
    assert r.rc == 2, r
    assert "Traceback" not in r.err and "Traceback" not in r.out
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    (line,) = lines
    assert line.startswith("thermorl: error: "), line
    for n in needles:
        assert n in line, (n, line)
    return line


# (argv, words the message must hold); FAST settings are appended to `train` commands
CASES = {
    "unknown_env": (["train", "CartPol-v1"], ["'CartPol-v1'", "did you mean CartPole-v1"]),
    "missing_env_module": (["train", "no_such_module_xyz:Foo-v0"],
                           ["no_such_module_xyz", "cannot import"]),
    "unknown_option": (["train", "--ppo.num_env", "4"],
                       ["unknown option '--ppo.num_env'", "did you mean --ppo.num_envs"]),
    "ill_typed": (["train", "--ppo.num_envs", "abc"], ["ppo.num_envs", "integer", "'abc'"]),
    "ill_typed_equals": (["train", "--ppo.num_envs=abc"], ["ppo.num_envs", "'abc'"]),
    "out_of_range": (["train", "--ppo.learning_rate", "-1"], ["ppo.learning_rate", "> 0", "-1"]),
    "bad_choice": (["train", "--policy.activation", "sigmoid"], ["policy.activation", "tanh"]),
    "minibatches": (["train", "--ppo.num_minibatches", "3"],
                    ["ppo.num_minibatches=3", "does not divide", "128"]),
    "resume_missing": (["train", "--resume", "no/such/run"], ["no/such/run"]),
    "eval_missing": (["eval", "no/such/run"], ["no/such/run"]),
    "missing_config_file": (["train", "--config", "nope.yaml"], ["nope.yaml", "does not exist"]),
    "unknown_preset": (["train", "--preset", "fast"], ["unknown preset 'fast'"]),
    "eval_zero_episodes": (["eval", "somewhere", "--episodes", "0"], ["--episodes"]),
    "eval_no_checkpoints": (["eval", "."], ["has no 'latest' checkpoint"]),
    "eval_bad_episodes": (["eval", "somewhere", "--episodes", "many"], ["many"]),
    "unknown_command": (["fly"], ["fly"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2(run_cli, it, tmp_path, case):
    argv, needles = CASES[case]
    if argv[0] == "train" and "--resume" not in argv:
        # the case's own flags come last, so they win over FAST's
        argv = ["train", "--run-dir", str(tmp_path / "run"), "--total-timesteps", "256",
                *it.FAST, *argv[1:]]
    assert_one_line_error(run_cli(*argv), *needles)
    assert not (tmp_path / "run").exists()  # nothing was started


def test_unknown_key_in_yaml_config(run_cli, tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("env_id: CartPole-v1\nppo:\n  num_env: 4\n")
    line = assert_one_line_error(run_cli("train", "--config", f, "--run-dir", tmp_path / "run"),
                                 "ppo.num_env", "did you mean ppo.num_envs")
    assert "unknown config key" in line
    f.write_text("ppoo:\n  num_envs: 4\n")
    assert_one_line_error(run_cli("train", "--config", f), "'ppoo'", "did you mean")
    f.write_text("ppo: [1, 2\n")
    assert_one_line_error(run_cli("train", "--config", f), "not valid YAML")
    assert not (tmp_path / "run").exists()


def test_resume_with_disallowed_override(run_cli, cartpole_run):
    before = (cartpole_run / "metrics.csv").read_text()
    assert_one_line_error(run_cli("train", "--resume", cartpole_run, "--ppo.num_envs", "4"),
                          "ppo.num_envs", "cannot change when resuming", "--total-timesteps")
    assert_one_line_error(run_cli("train", "CartPole-v1", "--resume", cartpole_run),
                          "cannot change when resuming")
    assert_one_line_error(run_cli("train", "--resume", cartpole_run, "--total-timesteps", "x"),
                          "total_timesteps")
    assert (cartpole_run / "metrics.csv").read_text() == before  # the run was not touched


def test_eval_unknown_checkpoint_name(run_cli, cartpole_run):
    assert_one_line_error(run_cli("eval", cartpole_run, "--checkpoint", "nope"),
                          "no 'nope' checkpoint", "best", "latest")


def test_eval_of_a_file_that_is_no_checkpoint(run_cli, tmp_path):
    f = tmp_path / "junk.pt"
    f.write_bytes(b"not a checkpoint")
    assert_one_line_error(run_cli("eval", f), "junk.pt", "not a readable thermorl checkpoint")


def test_a_mujoco_env_without_the_extra_names_it(monkeypatch):
    import gymnasium as gym

    from thermorl.envs.vector import make_vector_env
    from thermorl.errors import EnvError

    def missing(*args, **kwargs):
        raise gym.error.DependencyNotInstalled('MuJoCo is not installed, run `pip install '
                                               '"gymnasium[mujoco]"`')
    monkeypatch.setattr(gym, "make_vec", missing)
    with pytest.raises(EnvError, match=r"HalfCheetah-v5.*MuJoCo.*pip install -e \"\.\[mujoco\]\""):
        make_vector_env("HalfCheetah-v5", 1)
