"""Run pip-audit over the installed environment; skip, loudly, when it cannot reach a
vulnerability service.

pip-audit asks PyPI's JSON API (or OSV) about every installed distribution. Behind a
mirror that serves packages but not that API, or offline, it reports each package as
"not found" and then "No known vulnerabilities found" without having audited
anything. This wrapper tells the two apart: a real answer passes or fails the run;
no answer prints why the audit was skipped and exits 0.
"""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> int:
    cmd = [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    try:
        report = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        report = {}
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        errors = done.stderr.strip().splitlines()
        if deps:
            why = f"all {len(deps)} installed distributions came back 'not found'"
        else:
            why = errors[-1][:200] if errors else "no answer"
        print(
            "pip-audit SKIPPED: no vulnerability service answered "
            f"(PyPI's JSON API or OSV is unreachable from here): {why}"
        )
        return 0
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"VULNERABLE {dep['name']} {dep['version']}: {ids}")
    skipped = len(deps) - len(audited)
    print(f"pip-audit: {len(audited)} audited, {skipped} not found, {len(vulnerable)} vulnerable")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
