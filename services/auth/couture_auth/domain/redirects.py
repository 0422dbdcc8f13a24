"""Where a login may send the browser next: only to a page of this site (no open redirect)."""

from __future__ import annotations

HOME = "/"


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this origin, else ``/``.

    Accepted: a relative path starting with exactly one ``/`` (so it has no scheme). Refused:
    ``//host`` and ``/\\host`` (browsers read both as another host), anything else not starting
    with ``/`` (``https://host``, ``javascript:...``, ``host/page``), backslashes anywhere (some
    browsers turn them into ``/``), and control characters or spaces (browsers strip some, which
    can reshape what remains into ``//host``).
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return HOME
    if "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return HOME
    return target
