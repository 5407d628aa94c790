"""The committed tb_nndebug/plugin/static/index.js is what frontend/ builds today."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
BUNDLE = ROOT / "tb_nndebug" / "plugin" / "static" / "index.js"


def test_committed_bundle_is_fresh(tmp_path):
    npm = shutil.which("npm")
    assert npm, ("npm is not installed: the bundle cannot be rebuilt (`make node` installs the "
                 "frontend's tools)")
    assert (FRONTEND / "node_modules" / "esbuild").is_dir(), (
        "frontend/node_modules is missing: run `make node` (npm ci in frontend/)")
    out = tmp_path / "index.js"
    proc = subprocess.run([npm, "run", "--silent", "build", "--", "--outfile", str(out)],
                          cwd=FRONTEND, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"npm run build failed:\n{proc.stdout}\n{proc.stderr}"
    fresh = out.read_bytes()
    committed = BUNDLE.read_bytes()
    assert fresh == committed, (
        f"tb_nndebug/plugin/static/index.js is stale ({len(committed):,} bytes committed, "
        f"{len(fresh):,} built): run `make frontend` and commit the bundle")


def test_bundle_is_one_es_module_exporting_render_with_its_css():
    text = BUNDLE.read_text(encoding="utf-8")
    assert text.rstrip().endswith("as render};"), text[-200:]
    assert "import " not in text[:2000] and "import(" not in text   # nothing else to load
    assert ".nnd-app{" in text                                        # CSS inside the JS
    assert "http://" not in text.replace("http://www.w3.org/", "")    # no CDN, no absolute URLs
    assert "https://" not in text
