"""Start one local Lambda instance the way Lambda runs it: `python -I -S lambda_sandbox.py SPEC`
(built by `Sandbox.command`, which decides who the instance runs as and what it may reach).

SPEC is JSON: {"command": [...], "cwd": "...", "uid": int|null, "gid": int|null,
"memory_bytes": int|null, "expose": [paths]}. The launcher, started as root by the pool, limits
the address space to the function's memory size, makes each `expose` path reachable in a mount
namespace of its own (an interpreter installed under a private home such as /root/.pyenv, which
the instance user could not otherwise run), drops to `uid`/`gid` with no supplementary groups,
and execs the command. It imports only the standard library, so it runs before any venv.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import resource
import site
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_CLONE_NEWNS = 0x00020000
_MS_RDONLY = 0x1
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_MNT_DETACH = 0x2
INSTANCE_USER = "nobody"  # the account instances run as when the stack runs as root


def blocked_ancestor(path: Path, uid: int) -> Path | None:
    """The first folder on the way to `path` that `uid` may not enter (None if every one is open)."""
    current = Path("/")
    for part in path.parts[1:]:
        current = current / part
        info = os.stat(current)
        if not stat.S_ISDIR(info.st_mode):
            return None
        allowed = stat.S_IXUSR if info.st_uid == uid else stat.S_IXOTH
        if not info.st_mode & allowed:
            return current
    return None


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(libc: ctypes.CDLL, source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None) -> None:
    encode = (lambda s: s.encode() if s is not None else None)  # noqa: E731 - local shorthand
    _check(libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def expose(paths: list[str], uid: int) -> None:
    """In a new mount namespace: over each folder `uid` cannot enter, an empty 0755 tmpfs holding
    only the `paths` below it (bind mounts, read-only). Everything else there stays hidden."""
    libc = _libc()
    _check(libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE, None)
    groups: dict[Path, list[Path]] = {}
    for raw in paths:
        path = Path(raw)
        blocked = blocked_ancestor(path, uid)
        if blocked is not None:
            groups.setdefault(blocked, []).append(path)
    for blocked, inside in groups.items():
        staging = Path(tempfile.mkdtemp(prefix="lambda-expose-"))
        held = []
        for index, path in enumerate(inside):
            hold = staging / str(index)
            hold.mkdir()
            _mount(libc, str(path), str(hold), None, _MS_BIND | _MS_REC, None)
            held.append((hold, path))
        _mount(libc, "tmpfs", str(blocked), "tmpfs", 0, "mode=0755,size=1m")
        for hold, path in held:
            path.mkdir(mode=0o755, parents=True, exist_ok=True)
            _mount(libc, str(hold), str(path), None, _MS_BIND | _MS_REC, None)
            _mount(libc, None, str(path), None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None)
            _check(libc.umount2(str(hold).encode(), _MNT_DETACH), f"umount {hold}")
            hold.rmdir()
        staging.rmdir()


@dataclass(frozen=True)
class Sandbox:
    """Who instances run as and what they may use: uid/gid (None: this process's own), the
    memory limit, and the interpreter folders to expose when the instance user cannot reach them."""

    uid: int | None
    gid: int | None
    memory_bytes: int
    expose: tuple[str, ...]
    workdir: Path

    @classmethod
    def for_this_process(cls, memory_mb: int, workdir: Path) -> Sandbox:
        """As root: run as INSTANCE_USER; as anyone else: as that user (who is not root)."""
        if os.geteuid() != 0:
            return cls(None, None, memory_mb * 1024 * 1024, (), workdir)
        try:
            account = pwd.getpwnam(INSTANCE_USER)
        except KeyError:
            raise RuntimeError(f"The local Lambda runs instances as {INSTANCE_USER!r}; this machine has no such user") \
                from None
        uid, gid = account.pw_uid, account.pw_gid
        needed = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)),
                  *site.getsitepackages(), os.path.dirname(os.path.abspath(__file__))}  # the spare's script
        blocked = sorted(p for p in needed if os.path.isdir(p) and blocked_ancestor(Path(p), uid) is not None)
        expose = tuple(p for p in blocked if not any(p != q and p.startswith(q + os.sep) for q in blocked))
        if blocked_ancestor(workdir, uid) is not None:
            raise RuntimeError(f"The local Lambda's folder {workdir} is not reachable by {INSTANCE_USER!r}")
        return cls(uid, gid, memory_mb * 1024 * 1024, expose, workdir)

    def tmp_dir(self, name: str) -> Path:
        """A private writable folder for one instance (its /tmp: TMPDIR)."""
        path = self.workdir / name
        path.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)
        return path

    def command(self, command: list[str], cwd: Path) -> list[str]:
        """`command`, started through the launcher that applies this sandbox."""
        spec = {"command": command, "cwd": str(cwd), "uid": self.uid, "gid": self.gid,
                "memory_bytes": self.memory_bytes, "expose": list(self.expose)}
        return [sys.executable, "-I", "-S", __file__, json.dumps(spec)]


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    os.umask(0o022)
    uid, gid = spec.get("uid"), spec.get("gid")
    if spec.get("expose") and uid is not None:
        expose(spec["expose"], uid)
    memory = spec.get("memory_bytes")
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if uid is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    os.chdir(spec["cwd"])
    command = spec["command"]
    os.execv(command[0], command)  # noqa: S606 - the pool's own interpreter and arguments
    return 127  # not reached: execv replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv))
