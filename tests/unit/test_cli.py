"""The `galley` command itself: help everywhere, exit codes, and one sentence when Redis
cannot be reached (no server is needed: a free loopback port nobody listens on)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from galley.cli import PROBLEM, UNREACHABLE, USAGE, cli, main, progress, redact
from galley.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command and subcommand, e.g. ("dlq", "retry")."""
    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


EVERY_COMMAND = list(commands())


def test_galley_help_lists_every_command_with_a_one_line_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    expected = {
        "up", "status", "trace", "dlq", "replay", "ops-page", "schema", "asyncapi",
        "check-ninjs", "evaluate", "chaos", "bench",
    }  # fmt: skip
    assert set(cli.commands) == expected
    listing = out.split("Commands:")[1]
    for name, command in cli.commands.items():
        line = next(line for line in listing.splitlines() if line.strip().startswith(name + " "))
        assert command.short_help and command.short_help.split()[0] in line, name
        assert "\n" not in command.short_help
    assert "Exit codes" in out


@pytest.mark.parametrize("path", EVERY_COMMAND, ids=" ".join)
def test_every_command_has_help_that_names_each_of_its_options(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    command = command_at(path)

    assert main([*path, "--help"]) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"Usage: galley {' '.join(path)}")
    assert command.help, f"galley {' '.join(path)} has no description"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{param.opts} of galley {' '.join(path)} has no help"
            assert all(opt in out for opt in param.opts), param.opts


def test_asyncapi_help_is_help_not_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asyncapi", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: galley asyncapi" in out and '"asyncapi"' not in out


def test_the_modules_hand_their_arguments_to_the_same_commands() -> None:
    for module, usage in (
        ("galley.evaluate", "galley evaluate"),
        ("galley.conformance", "galley check-ninjs"),
        ("galley.opsweb", "galley ops-page"),
        ("galley.chaos", "galley chaos"),
        ("galley.bench", "galley bench"),
        ("galley.replay", "galley replay"),
        ("galley.asyncapi", "galley asyncapi"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Usage: {usage}"), module


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["status", "--no-such-option"],
        ["status", "--replicas", "0"],
        ["trace"],
        ["dlq", "retry"],
        ["dlq", "retry", "1-0", "--all"],
        ["dlq", "purge"],
        ["dlq", "list", "--service", "nowhere"],
        ["evaluate", "/no/such/corpus.jsonl"],
        ["check-ninjs"],
        ["bench", "--rates", "ten"],
        ["status", "--redis-url", "http://not-redis/"],
    ],
    ids=" ".join,
)
def test_a_wrong_command_line_exits_2_with_a_usage_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == USAGE
    err = capsys.readouterr().err
    assert "Usage: galley" in err and "Error:" in err
    assert "Traceback" not in err


@pytest.fixture
def nobody() -> str:
    """A Redis URL on a free loopback port that nothing listens on."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["status", "--json"],
        ["dlq", "list"],
        ["dlq", "show", "1-0"],
        ["dlq", "retry", "1-0"],
        ["dlq", "purge", "--yes"],
        ["trace", "urn:any"],
        ["replay", "--from-start", "--no-follow"],
        ["ops-page", "--port", "1"],
    ],
    ids=" ".join,
)
def test_an_unreachable_redis_is_one_sentence_naming_the_url_and_how_to_set_it(
    argv: list[str], nobody: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--redis-url", nobody]) == UNREACHABLE

    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    sentence = lines[0]
    assert sentence.startswith(f"galley {argv[0]}")
    assert f"cannot reach Redis at {nobody} (connection refused)" in sentence
    assert "--redis-url" in sentence and "REDIS_URL" in sentence
    assert captured.out == ""


def test_the_installed_command_says_the_same_with_no_traceback(nobody: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "galley.cli", "status"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": nobody},
        timeout=60,
    )
    assert done.returncode == UNREACHABLE
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert f"cannot reach Redis at {nobody}" in done.stderr and "REDIS_URL" in done.stderr


def test_galley_up_with_an_unreachable_redis_url_starts_nothing_and_says_why(
    nobody: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["up", "--redis-url", nobody, "--data-dir", str(tmp_path)]) == UNREACHABLE
    assert f"cannot reach Redis at {nobody}" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()


def test_a_password_in_a_redis_url_is_never_printed() -> None:
    assert redact("redis://:s3cret@db:6379/0") == "redis://:***@db:6379/0"
    assert redact("redis://ops:s3cret@db:6379/0") == "redis://ops:***@db:6379/0"
    assert redact("redis://db:6379/0") == "redis://db:6379/0"


def test_a_check_ninjs_post_to_an_ingest_nobody_runs_exits_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = ROOT / "tests" / "fixtures" / "article.json"
    url = f"http://127.0.0.1:{free_port()}"

    assert main(["check-ninjs", str(doc), "--post", url]) == UNREACHABLE

    err = capsys.readouterr().err
    assert f"cannot reach ingest at {url} (connection refused)" in err
    assert "Traceback" not in err


def test_progress_bars_are_not_drawn_when_stderr_is_not_a_terminal() -> None:
    assert progress().disable  # pytest captures stderr: not a terminal


def test_the_exit_codes_are_distinct_and_documented() -> None:
    assert (PROBLEM, USAGE, UNREACHABLE) == (1, 2, 3)
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text()
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert code in operations


def test_schema_and_asyncapi_write_what_they_say(tmp_path: Path) -> None:
    assert main(["schema", str(tmp_path / "schemas")]) == 0
    assert list((tmp_path / "schemas").glob("*.schema.json"))
    out = tmp_path / "asyncapi.json"
    assert main(["asyncapi", "--output", str(out)]) == 0
    assert json.loads(out.read_text())["asyncapi"] == "3.0.0"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port something already listens on."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def test_galley_up_refuses_a_port_that_is_taken_before_starting_anything(
    taken_port: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PUBLISH_PORT", str(taken_port))
    argv = ["up", "--data-dir", str(tmp_path), "--redis-port", str(free_port())]

    assert main(argv) == UNREACHABLE

    err = capsys.readouterr().err
    assert f"port {taken_port} (publish) is taken" in err and "PUBLISH_PORT" in err
    assert not (tmp_path / "logs").exists() and not (tmp_path / "redis").exists()


def test_galley_up_refuses_an_embedded_redis_port_that_is_taken(
    taken_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["up", "--data-dir", str(tmp_path), "--redis-port", str(taken_port)]
    assert main([*argv, "--redis-url", ""]) == UNREACHABLE
    err = capsys.readouterr().err
    assert f"port {taken_port} is taken" in err and "--redis-port" in err
