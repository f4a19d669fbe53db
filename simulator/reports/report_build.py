"""Build the `Report` of a recognised result folder, by the kind of result it is."""

from __future__ import annotations

from simulator.reports.report_compare import compare_report, optimize_report
from simulator.reports.report_folder import ResultFolder
from simulator.reports.report_model import Report
from simulator.reports.report_run import run_report
from simulator.reports.report_sweep import sweep_report

BUILDERS = {
    "run": run_report,
    "compare": compare_report,
    "sweep": sweep_report,
    "optimize": optimize_report,
}


def build_report(folder: ResultFolder, source: str) -> Report:
    """The report of the folder; `source` names it as the user did."""
    report = BUILDERS[folder.kind](folder)
    report.source = str(source)
    return report
