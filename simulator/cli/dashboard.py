"""`promosim dashboard [SCENARIO]`: the what-if page in the browser, served on 127.0.0.1.

The page (simulator/dashboard/app.py) is a Solara app served by uvicorn in this process, so runs
share its warm, compiled kernel. It listens on the loopback interface only: a scenario and its
results are the planner's, not the network's.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from simulator.cli.common import options, positive_int

HOST = "127.0.0.1"
DEFAULT_SHOPPERS = 200_000
WARM_UP_SHOPPERS = 2_000


def cmd_dashboard(args) -> int:
    """Check the scenario, fill the page's front-end files if need be, serve until Ctrl-C."""
    from simulator.dashboard import assets
    from simulator.dashboard.runner import RUNNER
    from simulator.dashboard.state import Edited, shipped
    from simulator.engine.workers import set_threads

    scenario = Path(args.scenario) if args.scenario else shipped()[0].parent / "double11_2021.yaml"
    ed = Edited.open(scenario)  # a file that cannot be read is an error here, exit 2
    set_threads(args.threads)
    if ed.scenario is not None:  # the kernel loaded while the page loads: the first run is warm
        RUNNER.submit(ed.scenario, ed.base_dir, WARM_UP_SHOPPERS, 1, ed.scenario.seed)
    folder = assets.cache_dir()
    assets.fill(folder)
    os.environ.update(
        PROMOSIM_DASHBOARD_SCENARIO=str(scenario.resolve()),
        PROMOSIM_DASHBOARD_SHOPPERS=str(args.shoppers),
        PROMOSIM_DASHBOARD_REPS=str(args.reps),
        SOLARA_APP="simulator.dashboard.app",
        SOLARA_TELEMETRY_MIXPANEL_ENABLE="False",
    )
    import uvicorn
    from solara.server import settings

    # Solara's note that http cookies fall back to samesite=lax: expected on localhost
    warnings.filterwarnings("ignore", message="Cookies with samesite=none")
    settings.main.mode = "production"
    settings.assets.proxy_cache_dir = folder
    print(f"promosim dashboard on http://{HOST}:{args.port}/ (Ctrl-C stops it)", flush=True)
    uvicorn.run("solara.server.starlette:app", host=HOST, port=args.port, log_level="warning")
    return 0


def add_parser(subparsers) -> None:
    """Add `dashboard` to the top-level subparsers."""
    d = subparsers.add_parser(
        "dashboard",
        help="a what-if page in the browser: edit offers, touches and channels, run, compare",
        parents=[options("threads")],
    )
    d.add_argument(
        "scenario", nargs="?", help="scenario file to start from (default: double11_2021.yaml)"
    )
    d.add_argument("--port", type=positive_int, default=8765, help="port on 127.0.0.1 (8765)")
    d.add_argument(
        "--shoppers",
        type=positive_int,
        default=DEFAULT_SHOPPERS,
        help="shoppers of a run at start (200,000; the page offers 100,000-1,000,000, a "
        "smaller number here is kept for quick looks and tests)",
    )
    d.add_argument(
        "--reps", type=positive_int, default=3, help="replications of a run at start (3)"
    )
    d.set_defaults(func=cmd_dashboard)
