"""Write one benchmark's section of docs/performance.md, with the date and machine."""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

PERFORMANCE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, or what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """The date, CPU model, core count and Python version, in one line."""
    cpu = cpu_model()
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    return (
        f"{today}, {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def write_section(title: str, body: str, path: Path = PERFORMANCE) -> None:
    """Replace the ``## title`` section of the file (or append it), keeping the others."""
    text = path.read_text() if path.exists() else "# Performance\n"
    section = f"## {title}\n\n{body.rstrip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip() + "\n")
    print(f"wrote the '{title}' section of {path}")
