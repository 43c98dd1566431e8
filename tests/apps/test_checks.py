"""What code computes after generation (amounts, prices, totals, times) and the checks on it: each check
passes on a right output and fails on a tampered one."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ownllm.apps.checks import run_checks, values_at
from ownllm.apps.deadlines import deadline_in, said_as
from ownllm.apps.derive import (
    attribute_claims,
    budget_amounts,
    dues_as_said,
    offer_prices,
    segment_times,
    split_exactly,
)
from ownllm.apps.grounding import supported
from ownllm.apps.inputs import Prepared, _offer_lines, _segments_from_text, parse_price, request_kind
from ownllm.apps.spec import CheckSpec


def check(name: str, output: dict, prepared: Prepared, inputs: dict | None = None, **fields: object) -> bool:
    return run_checks(output, [CheckSpec(check=name, **fields)], prepared, inputs or {})[0].passed


@pytest.mark.parametrize("total", [100, 2_500_000, 9_999_999, 7])
def test_budget_lines_always_sum_exactly_to_the_budget(total: int) -> None:
    parts = split_exactly(total, [33, 33, 34, 0.5, 17])
    assert sum(parts) == total and all(p >= 0 for p in parts)


def test_budget_amounts_and_the_sum_check() -> None:
    output = {"budget": [{"item": "social", "share": 40}, {"item": "events", "share": 35},
                         {"item": "print", "share": 35}]}
    inputs = {"budget": 99999.99}
    budget_amounts(output, Prepared(), inputs)
    assert round(sum(line["amount"] for line in output["budget"]), 2) == 99999.99
    assert check("sums_to_budget", output, Prepared(), inputs)
    output["budget"][0]["amount"] += 0.01
    assert not check("sums_to_budget", output, Prepared(), inputs)


def test_prices_come_from_the_chosen_catalogue_line_with_totals_per_currency() -> None:
    prepared = Prepared(offers={"O1": {"label": "front light", "price": 39.0, "currency": "EUR", "source": "S1"},
                                "O2": {"label": "Aurel 300", "price": 2890.0, "currency": "USD", "source": "S2"}})
    output = {"groups": [{"name": "lights", "items": [{"name": "front light", "quantity": 3, "offer": "O1"},
                                                      {"name": "reflective vest", "quantity": 1, "offer": "none"}]},
                         {"name": "bike", "items": [{"name": "Aurel", "quantity": 1, "offer": "O2"}]}]}
    offer_prices(output, prepared, {})
    assert output["groups"][0]["items"][0]["line_total"] == 117.0
    assert output["groups"][0]["items"][1]["unit_price"] is None  # not in the catalogue: unpriced, not invented
    assert output["totals"] == {"EUR": 117.0, "USD": 2890.0}
    assert check("totals_add_up", output, prepared)
    tampered = copy.deepcopy(output)
    tampered["groups"][0]["items"][0]["line_total"] = 100.0
    assert not check("totals_add_up", tampered, prepared)
    tampered = copy.deepcopy(output)
    tampered["totals"] = {"EUR": 3007.0}
    assert not check("totals_add_up", tampered, prepared)


def test_claims_must_be_supported_and_are_recited_to_the_passage_that_supports_them() -> None:
    prepared = Prepared(sources={
        "S1": {"text": "The Aurel 300 sells for 2,890 USD and has a 540 Wh battery.", "citation": {}},
        "S2": {"text": "The Sprig 80 is a kick scooter with 42 km of range.", "citation": {}}})
    output = {"claims": [{"text": "The Aurel 300 has a 540 Wh battery", "source": "S2"},
                         {"text": "The Sprig 80 reaches 60 km", "source": "S2"}]}
    attribute_claims(output, prepared, {})
    assert output["claims"][0]["source"] == "S1"
    result = run_checks(output, [CheckSpec(check="citations_grounded", path="claims[]")], prepared, {})[0]
    assert not result.passed and result.rate == 0.5  # the invented range is caught
    assert supported("售价为 19,800 元", "奥瑞尔 300 中国市场售价为19,800 元")
    assert not supported("售价为 18,800 元", "奥瑞尔 300 中国市场售价为19,800 元")


def test_transcripts_become_segments_with_times_speakers_and_repointed_items() -> None:
    segments = _segments_from_text("[00:01:05] Anna: we decided to launch on 14 April\n"
                                   "00:02:10 Ben：I will book the venue by Friday\nno time or speaker here")
    assert segments[0] == {"start": 65, "speaker": "Anna", "text": "we decided to launch on 14 April"}
    assert segments[1]["speaker"] == "Ben" and segments[1]["start"] == 130
    assert segments[2] == {"start": None, "speaker": "", "text": "no time or speaker here"}
    prepared = Prepared(segments={f"T{i}": {**seg, "time": str(seg["start"])} for i, seg in enumerate(segments, 1)},
                        input_text="Anna Ben")
    output = {"action_items": [{"task": "book the venue", "owner": "Ben", "due": "Friday", "segment": "T1"},
                               {"task": "hire a band", "owner": "Zed", "due": "", "segment": "T3"}]}
    segment_times(output, prepared, {})
    assert output["action_items"][0]["segment"] == "T2" and output["action_items"][0]["time"] == "130"
    owners = run_checks(output, [CheckSpec(check="owners_known", path="action_items[].owner")], prepared, {})[0]
    assert owners.rate == 0.5  # Zed was never mentioned
    output["action_items"][0]["due"] = "2023-10-20"
    due = run_checks(output, [CheckSpec(check="stated", path="action_items[].due")], prepared, {})[0]
    assert not due.passed and due.rate == 0.0  # a date nobody said; the empty one is not counted


def test_a_due_date_is_the_deadline_said_where_the_task_was_said() -> None:
    lines = ["第一，苏州仓库的备用电池库存已经不足", "维修团队要在本月底前给出解决方案",
             "Eva, please send the newsletter by the end of the month.", "Hugo will call the dealer",
             "I will book the venue by 5 p.m. on Friday", "prices go up by 5 percent, said Ben",
             "Anna sends the invoice by Monday and Bob updates the site by Friday.", "这周五下班前把合同签了"]
    prepared = Prepared(segments={f"T{i}": {"text": text, "time": f"00:00:0{i}"} for i, text in enumerate(lines, 1)},
                        input_text="\n".join(lines))
    output = {"action_items": [
        {"task": "给出解决方案", "owner": "维修团队", "due": "2023-08-10", "segment": "T2"},  # invented date
        {"task": "send the newsletter", "owner": "Eva", "due": "", "segment": "T3"},  # said but left out
        {"task": "call the dealer", "owner": "Hugo", "due": "2024-01-05", "segment": "T4"},  # nothing was said
        {"task": "book the venue", "owner": "Ben", "due": "Friday 5 p.m.", "segment": "T5"},  # reworded: kept
        {"task": "raise prices", "owner": "Ben", "due": "", "segment": "T6"},  # "by 5 percent" is no date
        {"task": "update the site", "owner": "Bob", "due": "", "segment": "T7"},  # Bob's, not Anna's, deadline
        {"task": "签合同", "owner": "未指定", "due": "本周五", "segment": "T8"}]}  # 这周五 in other words: kept
    dues_as_said(output, prepared, {})
    assert [item["due"] for item in output["action_items"]] == [
        "本月底前", "the end of the month", "", "Friday 5 p.m.", "", "Friday", "本周五"]
    due = run_checks(output, [CheckSpec(check="stated", path="action_items[].due")], prepared, {})[0]
    assert due.passed and due.rate == 1.0
    output["action_items"][0]["due"] = "3月31日"  # a date computed from 本月底 was not said
    assert not run_checks(output, [CheckSpec(check="stated", path="action_items[].due")], prepared, {})[0].passed
    for not_a_deadline in ("三天前我们收到投诉", "在产品上市前完成", "在年会之前准备好节目", "在三天前的会上批准了预算",
                           "finish before the meeting", "sales grew by 2000 units", "paid by the month",
                           "by May we had lost three clients", "the job ran until 3am last night"):
        assert deadline_in(not_a_deadline) is None, not_a_deadline
    assert deadline_in("我负责在下周一之前准备") == "下周一之前" and deadline_in("两周之内给我") == "两周之内"
    assert deadline_in("deliver by 3pm tomorrow") == "3pm tomorrow" and deadline_in("截止日期是下周一") == "下周一"
    assert deadline_in("signed by the fifteenth") == "the fifteenth" and deadline_in("by like Thursday") == "Thursday"
    assert deadline_in("截止时间是下周三下午五点") == "下周三下午五点" and deadline_in("一周之内出了三次故障") is None
    assert said_as("Friday 5pm", "by five pm on Friday") and said_as("3月底", "三月底前")
    assert said_as("EOD", "by end of day")
    assert not said_as("Mar 5", "market share is up 5 percent") and not said_as("三天内", "三天前客户投诉了")


def test_language_child_safety_and_sketch_label_checks() -> None:
    zh, en = Prepared(lang="zh"), Prepared(lang="en")
    assert check("language", {"title": "小乌龟的故事", "paragraphs": ["从前有一只小乌龟。"]}, zh)
    assert not check("language", {"title": "The turtle", "paragraphs": ["Once upon a time."]}, zh)
    assert check("child_safe", {"paragraphs": ["The turtle found a friend."]}, en)
    assert not check("child_safe", {"paragraphs": ["The turtle picked up a gun."]}, en)
    assert not check("child_safe", {"paragraphs": ["小乌龟拿起了枪。"]}, zh)
    labels = Prepared(labels=["Noodle House", "Beef noodles $12", "Place order"])
    assert check("labels_covered", {"html": "<h1>Noodle House</h1><li>Beef noodles</li><button>Place order"}, labels)
    assert not check("labels_covered", {"html": "<h1>Noodle House</h1>"}, labels)


def test_prices_offer_lines_and_request_kinds_are_read() -> None:
    assert parse_price("Front light | 39.00 EUR") == (39.0, "EUR")
    assert parse_price("售价 19,800 元") == (19800.0, "CNY")
    assert parse_price("$4.50 each") == (4.5, "USD")
    assert parse_price("no price") is None
    lines = _offer_lines("| Part number | Part | Price |\n|---|---|---|\n| VP-1008 | front light | 39.00 EUR |")
    assert lines == [("VP-1008 · front light", 39.0, "EUR")]
    assert request_kind("Tell me a bedtime story") == "story"
    assert request_kind("番茄炒蛋怎么做") == "recipe"
    assert request_kind("做一个下雨天的歌单") == "playlist"
    assert request_kind("hello") is None
    assert list(values_at({"a": [{"b": 1}, {"b": 2}]}, "a[].b")) == [1, 2]


def test_an_output_derive_cannot_handle_is_a_failed_check_not_a_lost_run() -> None:
    from ownllm.apps.runner import _derive_and_check
    from ownllm.apps.spec import builtin_specs

    spec = builtin_specs()["shopping_plan"]
    output = {"plan": "p", "groups": [{"name": "g", "items": [{"name": "x", "quantity": "many", "offer": "O1"}]}]}
    prepared = Prepared(offers={"O1": {"label": "x", "price": 1.0, "currency": "EUR", "source": "S1"}})
    results = _derive_and_check(spec, output, prepared, {"need": "x"})
    assert len(results) == 1 and not results[0].passed and "offer_prices" in results[0].check


def test_deadlines_are_found_in_meeting_lines_written_for_the_review() -> None:
    """144 meeting lines two reviewers wrote and labelled (half English, half Chinese, half with a deadline, the
    rest with tempting words: "by 12 percent", 三天前, 一周之内出了故障). The second reviewer's 80 were held out
    from the first round of rules (precision 0.84, recall 0.76 there, RESULTS); this guards what was reached."""
    rows = [json.loads(line) for line in (Path(__file__).parent / "deadline_lines.jsonl").read_text().splitlines()]
    found = [(row, deadline_in(row["text"])) for row in rows]
    hits = [(row, got) for row, got in found if got is not None and row["deadline"] is not None]
    precision = len(hits) / sum(got is not None for _, got in found)
    recall = len(hits) / sum(row["deadline"] is not None for row in rows)
    spans = sum(got.lower() in {row["deadline"].lower(), *(a.lower() for a in row["also"])} for row, got in hits)
    assert precision >= 0.95 and recall >= 0.9 and spans / len(hits) >= 0.95, (precision, recall, spans / len(hits))
