"""Render the first page of a handover report as a PNG, so a person can look at it.

    python docs/screenshot.py [REPORT.html] [-o docs/report-first-page.png]

Without an argument, writes the reports for sample_ledgers/ into a temporary folder and takes 中心村's.
Uses the headless Chromium the tests use (Debian package `chromium`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "report-first-page.png")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        print("chromium 未安装（apt-get install chromium）", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        html = args.html
        if html is None:
            subprocess.run([sys.executable, "-m", "finaudit", "report", str(ROOT / "sample_ledgers"), "-o", tmp,
                            "--auditor", "张三", "--auditor", "李四", "--township", "青山镇", "--fail-on", "never"],
                           check=True, capture_output=True)
            html = Path(tmp) / "中心村-2024-审计移交报告.html"
        # an A4 page at 150 dpi: 1240 × 1754 pixels
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1240,1754", f"--screenshot={args.output.resolve()}", html.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"已写出 {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
