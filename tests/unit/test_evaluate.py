"""`galley evaluate` on a small made-up corpus: the floor's effect and the language check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from galley import evaluate
from services.enrichment.related import DEFAULT

STORIES: list[tuple[int, str, str]] = [
    (
        1,
        "North Korean troops arrive in Kursk",
        "North Korean troops arrived in the Kursk region to fight beside Russian forces, Seoul "
        "intelligence says.",
    ),
    (
        2,
        "Budget deficit widens to record",
        "The finance ministry said the budget deficit widened to a record as defence spending "
        "rose and tax revenue fell.",
    ),
    (
        1,
        "North Korean soldiers suffer heavy losses in Kursk",
        "Seoul intelligence says North Korean soldiers suffered heavy losses in Kursk fighting "
        "Ukrainian forces beside Russian troops.",
    ),
    (
        3,
        "Parliament debates the pension reform",
        "Lawmakers argued about the pension reform for hours. The finance minister defended the "
        "plan, the opposition called it unfair to young workers. Pensions will rise with "
        "inflation. The vote is expected next month after a committee hearing. Unions plan "
        "protests in the capital. A delegation from Seoul watched; a Russian journalist asked.",
    ),
    (
        2,
        "Parliament approves budget despite record deficit",
        "Parliament approved the budget although the deficit is at a record; the finance ministry "
        "expects tax revenue to recover.",
    ),
    (
        1,
        "Kursk: North Korean troops pulled back after losses",
        "North Korean troops were pulled back from the Kursk front after heavy losses, Seoul "
        "intelligence says, citing Russian sources.",
    ),
    (
        3,
        "Pension reform passes after long debate",
        "The pension reform passed after a long debate; unions called off protests and lawmakers "
        "praised the compromise on inflation-linked pensions.",
    ),
]


def rows() -> list[dict[str, Any]]:
    return [
        {
            "id": f"story-{n}",
            "date_publish": f"2024-11-{n + 1:02d}T12:00:00",
            "title": title,
            "description": "",
            "text": text,
            "category": "world",
            "event_id": event,
            "language": None,
        }
        for n, (event, title, text) in enumerate(STORIES)
    ]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows()), encoding="utf-8")
    return path


def test_the_corpus_is_replayed_as_english_whatever_its_language_field_says(corpus: Path) -> None:
    assert {item.doc.language for item in evaluate.load(corpus)} == {"en"}


def test_the_floor_report_counts_the_links_it_cuts_and_the_articles_it_leaves_bare(
    corpus: Path,
) -> None:
    lines: list[str] = []
    effect = evaluate.report_floor(corpus, out=lines.append)
    assert effect.params == DEFAULT
    assert lines[0].startswith(f"Relevance floor in use: text score >= {DEFAULT.min_text_score:g}")
    # The pension debate shares only "Seoul" and "Russian" with the Kursk stories: linked
    # without a floor, cut by it; no same-event link is lost.
    assert effect.links_cut >= 1 and effect.relevant_cut == 0
    assert effect.floored.links == effect.free.links - effect.links_cut + effect.replaced
    assert effect.floored.recall == effect.free.recall == 1.0
    assert effect.floored.precision > effect.free.precision
    assert effect.emptied == effect.floored.without_link - effect.free.without_link
    in_use = [line for line in lines if line.endswith("<- in use")]
    assert len(in_use) == 1 and f"{DEFAULT.min_text_score:.2f}" in in_use[0]


def test_no_link_crosses_languages_even_to_the_same_text(corpus: Path) -> None:
    check = evaluate.cross_language(evaluate.load(corpus), relabel=("de-DE", "nb-NO", None))
    assert check.articles == 4 * len(STORIES)
    assert check.links > 0 and check.cross == 0
    assert set(check.per_language) == {"en", "de", "nb", None}
    assert all(q.p1 == 1.0 for q in check.per_language.values())


def test_evaluate_prints_quality_floor_and_language_check(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert evaluate.main([str(corpus), "--skip-scale"]) == 0
    out = capsys.readouterr().out
    assert "P@1" in out and "MAP" in out
    assert "Relevance floor in use" in out and "cut by the floor" in out
    assert "0 cross-language links" in out


def test_evaluate_refuses_a_missing_corpus(tmp_path: Path) -> None:
    assert evaluate.main([str(tmp_path / "missing.jsonl"), "--skip-scale"]) == 2
