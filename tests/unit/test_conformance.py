"""`galley check-ninjs`: the project's dialect corpus read as ingest reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from galley import conformance

CORPUS = Path(__file__).parents[1] / "fixtures" / "dialects"


def test_every_document_of_the_corpus_reads_as_its_manifest_expects(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert conformance.main([str(CORPUS), "--json"]) == 0
    readings = {
        Path(r["file"]).name: r for r in map(json.loads, capsys.readouterr().out.splitlines())
    }
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    for entry in manifest:
        reading = readings[entry["file"]]
        if entry["expect"]["status"] == 202:
            assert reading["status"] == "accepted", reading
            assert reading["type"] == entry["type"]
            assert reading["headline"] == entry["expect"]["headline"]
        else:
            assert reading["status"] == entry["expect"]["problem"], reading


def test_a_file_that_is_not_json_is_reported_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.json").write_text("{nope")
    assert conformance.main([str(tmp_path)]) == 0
    assert "unreadable" in capsys.readouterr().out
