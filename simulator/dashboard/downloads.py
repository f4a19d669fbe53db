"""What the page offers to download: the edited scenario's YAML and the run's HTML report.

The report is `promosim report` of the folder `promosim run` would have written for the run
(`reports.run_folder`), built in a temporary folder when asked for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from simulator.dashboard.runner import Job
from simulator.reports.report_build import build_report
from simulator.reports.report_folder import open_folder
from simulator.reports.report_html import render_html
from simulator.reports.run_folder import write_run_folder


def report_html(job: Job, source: str) -> bytes:
    """The HTML report of a finished run; `source` names the scenario as the page shows it."""
    with tempfile.TemporaryDirectory(prefix="promosim-dashboard-") as tmp:
        out = Path(tmp) / "run"
        write_run_folder(out, job.result, source, "fixed", job.wall_s or 0.0)
        folder = open_folder(out)
        return render_html(build_report(folder, source=source), folder.path).encode()
