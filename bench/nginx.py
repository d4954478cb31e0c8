"""Render deploy/nginx.conf for nginx running as our own process in front of local servers."""

from __future__ import annotations

from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"


def render(listen_port: int, upstream_ports: list[int]) -> str:
    """The deploy template with a listen address and one upstream line per server process."""
    servers = "\n        ".join(f"server 127.0.0.1:{p} max_fails=0;" for p in upstream_ports)
    lines = []
    for line in TEMPLATE.read_text().splitlines():
        if not line.lstrip().startswith("#"):  # the comments name the markers too
            line = line.replace("@LISTEN@", f"127.0.0.1:{listen_port}")
            line = line.replace("@SERVERS@", servers)
        lines.append(line)
    return "\n".join(lines) + "\n"


def prepare(run_dir: Path) -> None:
    """Make the folders nginx writes into under its -p prefix."""
    for sub in ("logs", "tmp"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
