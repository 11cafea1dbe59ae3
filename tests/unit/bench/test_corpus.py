import json

from galley.bench.corpus import Newsroom, ingested_fields, submitted_fields
from services.ingest import domain
from shared.envelope import from_fields
from shared.models import Article


def test_the_same_seed_always_writes_the_same_story() -> None:
    assert Newsroom(seed=3).story(42) == Newsroom(seed=3).story(42)
    assert Newsroom(seed=3).story(42) != Newsroom(seed=3).story(43)


def test_a_submitted_entry_is_a_ninjs_document_ingest_accepts() -> None:
    fields = submitted_fields(Newsroom(), 5)
    env = from_fields(fields)
    assert env.type == "article.submitted" and env.subject == "urn:galley:bench:5"
    article = domain.normalize(domain.parse_article(json.loads(fields["data"])), source="bench")
    assert article.word_count > 200


def test_an_ingested_entry_carries_a_valid_article() -> None:
    env = from_fields(ingested_fields(Newsroom(), 9, "archive"))
    article = Article.model_validate(env.data)
    assert env.type == "article.ingested" and article.uri == "urn:galley:archive:9"
    assert article.slug == "archive-9"
