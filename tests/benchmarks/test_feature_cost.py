"""benchmarks/feature_cost.py, the on-vs-off runner of metrics, tracing and idempotency: that
each feature's child measures what it says and that "off imports nothing" is enforced, never
how fast anything is."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import feature_cost  # noqa: E402


def test_each_feature_measures_every_row_of_its_report() -> None:
    data = feature_cost.measure(list(feature_cost.FEATURES), smoke=True)
    assert feature_cost.failures(data) == []
    for name, feature in feature_cost.FEATURES.items():
        result = data[name]
        for key, _ in feature.rows:
            assert result[key] > 0, (name, key)
        assert result["import_off_ms"] > 0 and result["import_on_ms"] > 0
    # Each idempotent first run took its key in the stub table: a request's and a record's,
    # in the warm-up round and the measured one (the "off" rounds took none).
    assert data["idempotency"]["stub_items"] == 2 * 20 + 2 * 20
    assert data["tracing"]["datagrams"] == 20  # one per traced request of the last round
    report = "\n".join(feature_cost.report_lines(data))
    assert "ERROR" not in report and "| idempotency | task record, idempotent, stub table |" \
        in report


def test_a_feature_whose_module_is_loaded_while_off_is_an_error(tmp_path: Path) -> None:
    leaky = feature_cost.FEATURES["metrics"]._replace(module="pym_lambda.runtime.app")
    with pytest.raises(RuntimeError, match="metrics off: pym_lambda.runtime.app was imported"):
        feature_cost.run(leaky, False, tmp_path)
    data = {"metrics": {"error": "RuntimeError: it broke"}}
    assert feature_cost.failures(data) == ["feature cost metrics: RuntimeError: it broke"]


def test_the_idempotent_copy_marks_the_operation_and_the_task(tmp_path: Path) -> None:
    marked = feature_cost._marked_copy(True, tmp_path)
    plain = feature_cost._marked_copy(False, tmp_path)
    assert "x-idempotent: true" in (marked / "apis" / "library.yaml").read_text()
    assert "idempotent=True" in (marked / "chalicelib" / "tasks.py").read_text()
    assert "x-idempotent" not in (plain / "apis" / "library.yaml").read_text()
    assert (plain / "app.py").read_text() == (feature_cost.ROOT / "app.py").read_text()
