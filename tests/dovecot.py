"""A private Dovecot for the e-mail tests (Debian's dovecot-imapd, `scripts/ensure-dovecot`):
IMAP on a free loopback port, from a config file of its own in a temporary folder (its
base_dir, state, log, passwd-file and Maildirs there too), never reading /etc/dovecot and
whether or not the machine's own dovecot service runs. `tests/mail_servers.py` puts an SMTP
server in front of it."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

HOST = "127.0.0.1"
DOVECOT = "/usr/sbin/dovecot"
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"
LDA_TIMEOUT = 10.0

DOVECOT_CONFIG = """\
# A private test instance: nothing here is read from or written to /etc/dovecot or /var.
instance_name = {instance}
base_dir = {workdir}/run
state_dir = {workdir}/state
log_path = {workdir}/dovecot.log
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_uid = {mail_user}
mail_gid = {mail_group}
first_valid_uid = {first_uid}
first_valid_gid = {first_gid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {workdir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {workdir}/users
}}
# No chroot (`chroot =`) for the two processes that have one: only root may chroot, and a
# developer's tests run as themselves. No growing delay after failed logins from one address
# (anvil's auth penalty): the tests fail logins on purpose, from 127.0.0.1 every time.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _identities() -> dict[str, object]:
    """Who Dovecot's processes run as. As root (CI), the login process and mail access must
    not be root (Dovecot refuses both): Debian's `dovecot`/`dovenull` users for its own
    processes and the system's `mail` user for the Maildirs. Otherwise all is the current user."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("mail")
        return dict(internal_user="dovecot", internal_group="dovecot", login_user="dovenull",
                    mail_user="mail", mail_group=grp.getgrgid(mail.pw_gid).gr_name,
                    first_uid=mail.pw_uid, first_gid=mail.pw_gid)  # fmt: skip
    me = pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(os.getegid()).gr_name
    return dict(internal_user=me.pw_name, internal_group=group, login_user=me.pw_name, mail_user=me.pw_name,
                mail_group=group, first_uid=me.pw_uid, first_gid=os.getegid())  # fmt: skip


class Dovecot:
    """One private Dovecot: IMAP on `port`, users from a passwd-file, mail in Maildirs, all in
    `workdir`. Stopping it keeps the mail, so a restart serves the same mailboxes."""

    def __init__(self, workdir: Path, users: dict[str, str], extra_config: str = "") -> None:
        self.workdir = workdir
        self.port = free_port()
        self.users = dict(users)
        self.config = workdir / "dovecot.conf"
        self.process: subprocess.Popen | None = None
        identities = _identities()
        self.config.write_text(DOVECOT_CONFIG.format(instance=f"sb-test-{self.port}", workdir=workdir, host=HOST,
                                                     port=self.port, **identities) + extra_config)  # fmt: skip
        (workdir / "mail").mkdir()
        mail_owner = pwd.getpwnam(str(identities["mail_user"]))
        os.chown(workdir / "mail", mail_owner.pw_uid, mail_owner.pw_gid)
        self._write_users()

    def _write_users(self) -> None:
        lines = [f"{address}:{{PLAIN}}{password}::::{self.workdir}/mail/{address}\n"
                 for address, password in self.users.items()]  # fmt: skip
        (self.workdir / "users").write_text("".join(lines))
        (self.workdir / "users").chmod(0o644)  # read by Dovecot's auth process, not root

    def add_user(self, address: str, password: str) -> None:
        """One more mailbox (Dovecot rereads the passwd-file when it changes)."""
        self.users[address] = password
        self._write_users()

    def start(self) -> float:
        """Starts Dovecot in the foreground (a child of the tests) and returns the seconds it
        took until IMAP answered."""
        began = time.monotonic()
        # A process group of its own: stop() ends the IMAP sessions with the master, as a
        # service manager does (Dovecot's master leaves a busy imap process running).
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        deadline = began + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()}\n{self.log()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return time.monotonic() - began
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"dovecot did not answer on {HOST}:{self.port}\n{self.log()}")

    def stop(self) -> None:
        """Stops Dovecot, then what its master left (open IMAP sessions), and waits until all
        of them are gone: the clients see their connections closed."""
        if self.process is None:
            return
        group = self.process.pid
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()
        self.process = None
        _end_group(group)

    def log(self) -> str:
        path = self.workdir / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def deliver_locally(self, recipient: str, raw: bytes, mail_from: str) -> int:
        """Hands one message to Dovecot's LDA for `recipient`, as an MTA would; its exit code
        (0 delivered, 67 no such user, 75 try later)."""
        done = subprocess.run([DOVECOT_LDA, "-c", str(self.config), "-d", recipient, "-f", mail_from or "<>"],
                              input=raw, capture_output=True, timeout=LDA_TIMEOUT)  # fmt: skip
        return done.returncode


def _end_group(group: int) -> None:
    """SIGTERM to what is left of one process group (ours: Dovecot's), then SIGKILL after 5 s."""
    deadline = time.monotonic() + 5
    try:
        os.killpg(group, signal.SIGTERM)
        while time.monotonic() < deadline:
            time.sleep(0.02)
            os.killpg(group, 0)
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass  # all gone


@contextlib.contextmanager
def dovecot_workdir() -> Iterator[Path]:
    """A fresh folder for one Dovecot, removed afterwards."""
    if not shutil.which(DOVECOT) or not os.access(DOVECOT_LDA, os.X_OK):
        pytest.fail("Dovecot is not installed: run scripts/ensure-dovecot (make test does)")
    workdir = Path(tempfile.mkdtemp(prefix="sb-mail-"))  # short: Dovecot's sockets live under it
    workdir.chmod(0o755)  # Dovecot's own users read the config and passwd-file, and the Maildirs
    try:
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
