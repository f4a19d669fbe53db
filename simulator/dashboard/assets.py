"""Solara's front-end files (its Vue app, RequireJS, Font Awesome) for a machine off the CDN.

Solara's page loads these from a CDN through the server, which keeps what it fetched in a cache
folder. `promosim dashboard` points that cache at its own folder and fills what is missing with
`npm pack` of the same packages at the versions the installed Solara asks for (the CDN serves
the npm packages' files), so the page works where only package registries are reachable. With
no npm, Solara fetches from its CDN as usual.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

CDN_PACKAGE = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/")


def cache_dir() -> Path:
    """Where the files are kept: $PROMOSIM_ASSETS, else ~/.cache/promosim/solara-cdn."""
    env = os.environ.get("PROMOSIM_ASSETS")
    return Path(env) if env else Path.home() / ".cache" / "promosim" / "solara-cdn"


def packages() -> list[str]:
    """The npm packages (name@version) the installed Solara's page template loads."""
    import solara.server
    from solara.server import settings

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    found = set(CDN_PACKAGE.findall(template.read_text()))
    if settings.assets.fontawesome_enabled:
        found.add(settings.assets.fontawesome_path.strip("/").split("/")[0])
    return sorted(found)


def fill(folder: Path, say=print) -> list[str]:
    """Fetch each missing package into `folder/<name@version>/` with npm; the ones fetched.

    A package appears whole or not at all (unpacked aside, then renamed).
    """
    missing = [p for p in packages() if not (folder / p).is_dir()]
    npm = shutil.which("npm")
    if not missing or npm is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for pkg in missing:
            say(f"fetching the page's front-end files: npm pack {pkg}")
            out = subprocess.run(
                [npm, "pack", pkg, "--silent"],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            )
            tgz = Path(tmp) / out.stdout.strip().splitlines()[-1]
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tgz) as tar:
                tar.extractall(unpacked, filter="data")
            (folder / pkg).parent.mkdir(parents=True, exist_ok=True)
            (unpacked / "package").rename(folder / pkg)
            shutil.rmtree(unpacked)
    return missing
