"""Run the real `nudgebot` console script as a child process, against the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from tests.support.polling import wait_until

NUDGEBOT = Path(sys.executable).with_name("nudgebot")


def child_env(**values: str) -> dict[str, str]:
    """The environment for a child: ours, minus any bot settings, plus `values`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "DISPATCH_", "RATE_LIMIT_", "GRACE_"))
    }
    # A free port for the dashboard, so tests never collide on 8080.
    env.setdefault("DASHBOARD_PORT", "0")
    env.update(values)
    return env


def run_cli(
    *args: str, cwd: Path, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `nudgebot ARGS...` to completion."""
    return subprocess.run(
        [str(NUDGEBOT), *args],
        cwd=cwd,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class BotProcess:
    """`nudgebot run` in the background, with its log captured to a file."""

    def __init__(self, cwd: Path, *, starts_at: str | None = None, **env: str) -> None:
        """`starts_at`: an ISO instant the process's wall clock starts from (time-machine)."""
        self.cwd = cwd
        self.env = child_env(**env)
        self.command = [str(NUDGEBOT), "run"]
        if starts_at is not None:
            repo = str(Path(__file__).resolve().parents[2])
            self.env["PYTHONPATH"] = repo
            self.command = [sys.executable, "-m", "tests.support.timetravel", starts_at, "run"]
        self.log_path = cwd / f"nudgebot-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Send `sig` and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"nudgebot did not stop within {timeout} s:\n{self.log}") from exc

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def wait_for_log(self, text: str, timeout: float = 20) -> None:
        """Wait until the log holds `text`; fails at once if the process exits first."""

        def logged() -> bool:
            if text in self.log:
                return True
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"nudgebot exited ({self.process.returncode}):\n{self.log}")
            return False

        wait_until(logged, timeout=timeout, what=f"{text!r} in the log", details=lambda: self.log)

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
