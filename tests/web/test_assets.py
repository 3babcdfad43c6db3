"""The vendored front-end files: the pinned versions, with their licences, and the version of
govuk-frontend that govuk-frontend-jinja's macros are written for."""

import json
import re
from importlib.metadata import version
from pathlib import Path

from api.web.templating import STATIC

VENDOR = STATIC / "vendor"
PINNED = re.compile(r"^(GOVUK_FRONTEND|MOJ_FRONTEND)=(\S+)", re.MULTILINE)


def _pins() -> dict[str, str]:
    script = (STATIC.parent / "fetch_assets.sh").read_text()
    return dict(PINNED.findall(script))


def _package(folder: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((VENDOR / folder / "package.json").read_text())
    return data


def test_committed_files_are_the_pinned_versions_with_licences() -> None:
    pins = _pins()
    for folder, name, pin, script in (
        ("govuk-frontend", "govuk-frontend", "GOVUK_FRONTEND", "govuk-frontend.min.js"),
        ("moj-frontend", "@ministryofjustice/frontend", "MOJ_FRONTEND", "moj-frontend.min.js"),
    ):
        package = _package(folder)
        assert package["name"] == name and package["version"] == pins[pin]
        assert package["license"] == "MIT"
        licence = (VENDOR / folder / "LICENCE.txt").read_text()
        assert "MIT License" in licence and "Permission is hereby granted" in licence
        built = (VENDOR / folder / script).read_text()
        assert f'version="{pins[pin]}"' in built or f"version='{pins[pin]}'" in built or pins[pin] in built[-2000:]


def test_govuk_frontend_matches_the_jinja_macros() -> None:
    # govuk-frontend-jinja 4.1.0 is written for govuk-frontend 6.3.0 (its README's table).
    assert version("govuk-frontend-jinja") == "4.1.0"
    assert _package("govuk-frontend")["version"] == "6.3.0"


def test_the_css_finds_its_fonts_and_images() -> None:
    for css in (VENDOR / "govuk-frontend/govuk-frontend.min.css", VENDOR / "moj-frontend/moj-frontend.min.css"):
        for url in set(re.findall(r"url\((/assets/[^)]+)\)", css.read_text())):
            assert (STATIC / url.removeprefix("/")).is_file(), url


def test_the_moj_version_wants_this_govuk_frontend() -> None:
    peer = json.loads((VENDOR / "moj-frontend/package.json").read_text())["peerDependencies"]["govuk-frontend"]
    assert peer == "^6.0.0"
    assert Path(VENDOR / "govuk-frontend/package.json").is_file()
