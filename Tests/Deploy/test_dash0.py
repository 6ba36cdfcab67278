"""config/dash0 with real tools: Debian's promtool (run.sh installs the pinned `prometheus` package)
parses every PromQL expression of the check rules and the dashboards, and runs the alerts' unit
tests (fixtures/dash0-rules-tests.yaml). The CRD validation of these objects is in test_schemas.py."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import DASH0, HERE, kustomize

PROMTOOL = shutil.which("promtool") or "promtool"
RULE_TESTS = HERE / "fixtures" / "dash0-rules-tests.yaml"


@pytest.fixture(scope="module")
def objects() -> list[dict]:
    return kustomize(DASH0)


def rules(objects: list[dict]) -> dict[str, list[dict]]:
    """PrometheusRule name -> its rule groups, as a Prometheus rule file holds them."""
    return {o["metadata"]["name"]: o["spec"]["groups"] for o in objects if o["kind"] == "PrometheusRule"}


def dashboard_queries(objects: list[dict]) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel query and every variable's matcher of every dashboard."""
    found = []
    for o in objects:
        if o["kind"] != "PersesDashboard":
            continue
        config = o["spec"]["config"]
        for name, panel in config["panels"].items():
            for i, query in enumerate(panel["spec"].get("queries", [])):
                found.append((f"{o['metadata']['name']}/{name}/{i}", query["spec"]["plugin"]["spec"]["query"]))
        for variable in config.get("variables", []):
            for i, matcher in enumerate(variable["spec"]["plugin"]["spec"].get("matchers", [])):
                found.append((f"{o['metadata']['name']}/${variable['spec']['name']}/{i}", matcher))
    return found


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def write_rule_files(directory: Path, groups_by_name: dict[str, list[dict]], annotations: bool) -> list[Path]:
    paths = []
    for name, groups in groups_by_name.items():
        groups = copy.deepcopy(groups)
        if not annotations:
            for group in groups:
                for rule in group["rules"]:
                    rule.pop("annotations", None)
        path = directory / f"{name}.rules.yaml"
        path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        paths.append(path)
    return paths


def unit_test(tmp_path: Path, groups_by_name: dict[str, list[dict]]) -> subprocess.CompletedProcess:
    write_rule_files(tmp_path, groups_by_name, annotations=False)
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    return promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)


def test_promtool_is_the_pinned_one():
    out = promtool("--version").stdout
    assert "version 2.42.0" in out, out


def test_rules_pass_promtool_check(objects, tmp_path):
    paths = write_rule_files(tmp_path, rules(objects), annotations=True)
    assert {p.name for p in paths} == {"flux.rules.yaml", "fluxtel.rules.yaml"}
    result = promtool("check", "rules", *map(str, paths))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_queries_pass_promtool_check(objects, tmp_path):
    queries = dashboard_queries(objects)
    assert len(queries) >= 20
    # promtool parses expressions in rule files: one recording rule per query.
    path = tmp_path / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:query{i}", "expr": q} for i, (_, q) in enumerate(queries)]}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_unit_tests_pass(objects, tmp_path):
    result = unit_test(tmp_path, rules(objects))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_both_ways(objects):
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    cases = [case for test in tests for case in test.get("alert_rule_test", [])]
    for groups in rules(objects).values():
        for rule in (r for g in groups for r in g["rules"]):
            mine = [c for c in cases if c["alertname"] == rule["alert"]]
            assert any(c["exp_alerts"] for c in mine), f"{rule['alert']}: no case where it fires"
            assert any(not c["exp_alerts"] for c in mine), f"{rule['alert']}: no case where it must not fire"


def test_every_alert_tells_on_call_what_to_do(objects):
    for groups in rules(objects).values():
        for rule in (r for g in groups for r in g["rules"]):
            annotations = rule.get("annotations", {})
            assert annotations.get("summary") and len(annotations.get("description", "")) > 80, rule["alert"]
            assert rule.get("labels", {}).get("severity") in ("critical", "warning", "info"), rule["alert"]


# ---- the guards guard: a broken query or a label taken out of an alert fails -----------------------

def test_a_broken_dashboard_query_fails_promtool(objects, tmp_path):
    where, query = dashboard_queries(objects)[0]
    path = tmp_path / "broken.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "d", "rules": [{"record": "q", "expr": query + ")"}]}]}))
    assert promtool("check", "rules", str(path)).returncode != 0, where


@pytest.mark.parametrize("alert,label", [("FluxObjectNotReady", "name"), ("FluxtelLosingItems", "signal")])
def test_taking_a_label_out_of_an_alert_fails_its_unit_test(objects, tmp_path, alert, label):
    groups_by_name = copy.deepcopy(rules(objects))
    changed = 0
    for groups in groups_by_name.values():
        for rule in (r for g in groups for r in g["rules"] if r["alert"] == alert):
            rule["expr"], n = re.subn(rf",\s*{label}\b", "", rule["expr"])
            changed += n
    assert changed, f"{label} not found in {alert}"
    result = unit_test(tmp_path, groups_by_name)
    assert result.returncode != 0, f"{alert} without {label} still passes its unit tests"


# ---- every metric name is one fluxtel exports ------------------------------------------------------
# The names the dashboards and rules read are listed in Tests/Fixtures/dash0-metric-names.txt. This
# test keeps the list equal to what config/dash0 uses; AgentTests' DashboardMetricsProcessTests runs
# the real agent on the shared fixtures and checks that it exports every listed name. Together: no
# panel or rule is empty by design.
METRIC_NAMES = HERE.parent / "Fixtures" / "dash0-metric-names.txt"
PROMQL_WORDS = {
    # aggregations, functions and keywords used as bare words (functions are followed by "(" anyway)
    "sum", "min", "max", "avg", "count", "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "bool", "offset", "inf", "nan",
}


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression selects (a small lexer, enough for config/dash0)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expression)  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word, rest = match.group(0), text[match.end():].lstrip()
        if rest.startswith("(") or word.lower() in PROMQL_WORDS:
            continue  # a function or a keyword
        if re.fullmatch(r"[0-9][0-9.e+-]*", word) or (match.start() > 0 and text[match.start() - 1].isdigit()):
            continue  # a number, or a duration's unit
        names.add(word)
    return names


def test_metric_name_lexer():
    assert metric_names('histogram_quantile(0.95, sum by (le, kind) (rate(a_bucket{x="y{z}"}[5m]))) > 300') == {"a_bucket"}
    assert metric_names('max by (a) (b{c="1"}) == 1 unless on (a) max by (a) (d)') == {"b", "d"}
    assert metric_names("sum(up{k=~\"$cluster\"}) / count(up) and other offset 5m") == {"up", "other"}


def test_the_metric_name_list_is_what_config_dash0_uses(objects):
    used = set()
    for groups in rules(objects).values():
        for rule in (r for g in groups for r in g["rules"]):
            used |= metric_names(rule["expr"])
    for _, query in dashboard_queries(objects):
        used |= metric_names(query)
    listed = {line.strip() for line in METRIC_NAMES.read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert used == listed, f"missing from the list: {sorted(used - listed)}; listed but unused: {sorted(listed - used)}"
