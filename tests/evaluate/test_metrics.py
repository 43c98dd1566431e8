"""The answer metrics agree with the SQuAD v1.1 definitions, run on the shared SQuAD and DRCD subsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ownllm.evaluate.gate import decide
from ownllm.evaluate.metrics import best_over_golds, bootstrap_ci, exact_match, f1_score, normalize_answer

QA = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "qa"
pytestmark = pytest.mark.skipif(not QA.exists(), reason="needs ../shared/testdata/qa (public QA subsets)")


def _questions(name: str) -> list[dict]:
    data = json.loads((QA / name).read_text(encoding="utf-8"))["data"]
    return [qa for article in data for paragraph in article["paragraphs"] for qa in paragraph["qas"]]


@pytest.mark.parametrize(("name", "lang"), [("squad-dev-subset.json", "en"), ("drcd-dev-subset.json", "zh")])
def test_gold_answers_score_full_marks(name, lang):
    questions = _questions(name)
    assert len(questions) > 100
    for qa in questions:
        golds = [a["text"] for a in qa["answers"]]
        assert best_over_golds(exact_match, golds[0], golds, lang) == 1.0
        assert best_over_golds(f1_score, golds[0], golds, lang) == 1.0


def test_a_wrong_answer_scores_zero_on_squad():
    questions = _questions("squad-dev-subset.json")
    scored = 0
    for qa, other in zip(questions, questions[50:], strict=False):
        golds = {normalize_answer(a["text"]) for a in qa["answers"]}
        wrong = other["answers"][0]["text"]
        if set(normalize_answer(wrong).split()) & {t for g in golds for t in g.split()}:
            continue  # shares a word with a gold answer: not a clean "wrong" case
        assert best_over_golds(f1_score, wrong, [a["text"] for a in qa["answers"]]) == 0.0
        assert best_over_golds(exact_match, wrong, [a["text"] for a in qa["answers"]]) == 0.0
        scored += 1
    assert scored > 100


def test_partial_overlaps_score_as_the_official_definitions_give():
    first = _questions("squad-dev-subset.json")[0]
    golds = [a["text"] for a in first["answers"]]
    assert golds[0] == "Denver Broncos"
    assert best_over_golds(exact_match, "The Denver Broncos!", golds) == 1.0  # articles and punctuation drop
    assert best_over_golds(f1_score, "Denver", golds) == pytest.approx(2 / 3)  # P 1, R 1/2
    assert best_over_golds(f1_score, "the Broncos of Denver", golds) == pytest.approx(0.8)  # P 2/3, R 1
    assert f1_score("Denver Broncos Broncos", "Denver Broncos") == pytest.approx(0.8)  # multiset counting
    assert f1_score("北京", "北京大学", "zh") == pytest.approx(2 / 3)
    assert f1_score("95 km", "最大续航95 km", "zh") == pytest.approx(2 * (2 / 2) * (2 / 6) / (1 + 2 / 6))
    assert exact_match("VM-A300。", "vm-a300", "zh") == 1.0


def test_bootstrap_interval_and_gate():
    low, high = bootstrap_ci([1.0] * 30 + [0.0] * 10)
    assert low < 0.75 < high and high - low < 0.35
    better = decide("ft:x", [1.0] * 20 + [0.5] * 20, [0.5] * 20 + [0.0] * 20, 10.0, 9.5)
    assert better.promoted and better.f1_difference == pytest.approx(0.5)
    same = decide("ft:x", [0.5, 0.0, 1.0, 0.5], [0.5, 0.5, 0.5, 0.5], 10.0, 10.0)
    assert not same.promoted and "does not exclude zero" in same.reasons[0]
    forgetful = decide("ft:x", [1.0] * 40, [0.0] * 40, 20.0, 10.0)
    assert not forgetful.promoted and "perplexity rose 2.00x" in forgetful.reasons[0]
