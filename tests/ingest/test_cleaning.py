"""Each cleaning step on its own: what it changes, what it leaves alone, what it reports."""

from __future__ import annotations

from ownllm.errors import InvalidInput
from ownllm.ingest.cleaning.boilerplate import remove_running_lines
from ownllm.ingest.cleaning.dedupe import NearDuplicateIndex, from_bytes, signature, to_bytes
from ownllm.ingest.cleaning.normalize import normalize_text
from ownllm.ingest.cleaning.pii import luhn_valid, redact, valid_cn_id
from ownllm.ingest.cleaning.quality import rejection_reason
from ownllm.ingest.cleaning.run import clean_document
from ownllm.ingest.parsed import Block, ParsedDocument, Unit
from ownllm.store.tenant_settings import CleaningConfig, PiiConfig, parse_tenant_settings
from ownllm.text import detect_lang

SECRET = b"k" * 32
VALID_ID = "11010519491231002X"  # checksum-valid sample number from the GB 11643 worked example
VALID_CARD = "4111 1111 1111 1111"  # a standard Luhn-valid test card number


def test_nfkc_folds_width_and_ligatures_but_keeps_chinese_punctuation() -> None:
    assert normalize_text("Ｅｆﬁｃｉｅｎｔ １２３ ABC") == "Efficient 123 ABC"
    assert normalize_text("保修期为：３０个月，请注意！") == "保修期为：30个月，请注意！"
    assert normalize_text("a\u200bb\x07c   d") == "abc d"


def test_running_headers_and_footers_are_removed_from_page_edges_only() -> None:
    bodies = ["Scope of the audit.", "Findings on stock.", "ACME Confidential data rules.", "Risks ahead.",
              "Sign-off by the board."]
    pages = [Unit("page", n, [Block(f"ACME Confidential\n{bodies[n - 1]}"), Block(f"Page {n} of 5")])
             for n in range(1, 6)]
    removed = remove_running_lines(pages)
    assert removed == 10
    assert pages[2].blocks[0].text == "ACME Confidential data rules."
    assert all("Page" not in b.text for p in pages for b in p.blocks)


def test_a_templated_sentence_ending_each_page_is_content_not_a_footer() -> None:
    specs = [(540, 95, 21.4), (720, 130, 22.9), (900, 110, 34.5)]
    pages = [Unit("page", n, [Block(f"Model {n}", "heading"), Block("Our city e-bike."),
                              Block(f"Its {wh} Wh battery gives a range of up to {km} km, and the complete "
                                    f"vehicle weighs {kg} kg."),
                              Block(f"Veltrano brochure 2026\nPage {n}")])
             for n, (wh, km, kg) in enumerate(specs, start=1)]
    pages[1].blocks.insert(1, Block("Page 2 of the manual explains the motor."))  # body text, not an edge
    removed = remove_running_lines(pages)
    assert removed == 6  # the brochure line and "Page n" on each of the three pages
    texts = [b.text for p in pages for b in p.blocks]
    assert sum("range of up to" in t for t in texts) == 3
    assert "Page 2 of the manual explains the motor." in texts
    assert not any(t.startswith("Veltrano brochure") or (t.startswith("Page ") and len(t) < 8) for t in texts)


def test_quality_filters_name_their_reason() -> None:
    assert rejection_reason(Block("Ã©tÃ© Ã  la plage, câ€™est gÃ©nial")) == "mojibake"
    assert rejection_reason(Block("#$%^&*()_+{}|:<>?~`#$%^&*()_+{}|:<>")) == "garbage"
    assert rejection_reason(Block("buy " * 30)) == "repetition"
    assert rejection_reason(Block("| a | b |\n|---|---|\n| $ | % |", "table")) is None
    assert rejection_reason(Block("The warranty covers the frame for ten years.")) is None


def test_validators() -> None:
    assert valid_cn_id(VALID_ID) and not valid_cn_id("110105194912310021")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_pii_is_redacted_and_the_log_never_holds_the_value() -> None:
    text = (f"Contact jane.doe@example.com or support@veltrano.example, mobile 138 1234 5678, "
            f"ID {VALID_ID}, card {VALID_CARD}, server 10.20.30.40, invoice 4111111111111112, "
            "hotline 400-820-6617, version 4.2.1.")
    redacted, spans = redact(text, PiiConfig(), SECRET)
    assert "jane.doe@example.com" not in redacted and "[EMAIL]" in redacted
    assert "support@veltrano.example" in redacted  # a role mailbox is a business contact
    regional = "Write to service-sh@veltrano.example, customer.service@x.example or sales.eu@veltrano.example"
    assert redact(regional, PiiConfig(), SECRET)[0] == regional  # regional role mailboxes
    persons = "zhang.sales@x.example anna-hr@x.example steve.jobs@x.example jane+support@x.example"
    assert redact(persons, PiiConfig(), SECRET)[0] == " ".join(["[EMAIL]"] * 4)  # a person, even with a role word
    for secret_value in ("138 1234 5678", VALID_ID, VALID_CARD, "10.20.30.40"):
        assert secret_value not in redacted
    assert "4111111111111112" in redacted  # fails Luhn: not a card
    assert "400-820-6617" in redacted and "4.2.1" in redacted
    assert sorted(s.kind for s in spans) == ["bank_card", "cn_id", "cn_mobile", "email", "ip"]
    for span in spans:
        assert redacted[span.start:span.end].startswith("[")
        assert len(span.value_hmac) == 64 and "jane" not in span.value_hmac


def test_pii_kinds_are_configurable() -> None:
    text = "Call +31 40 555 0147 or write to jane.doe@example.com"
    redacted, _ = redact(text, PiiConfig(kinds=["phone"]), SECRET)
    assert redacted == "Call [PHONE] or write to jane.doe@example.com"
    untouched, spans = redact(text, PiiConfig(enabled=False), SECRET)
    assert untouched == text and spans == []


def test_tenant_config_rejects_unknown_keys() -> None:
    assert parse_tenant_settings({"cleaning": {"near_dedupe": False}}).cleaning.near_dedupe is False
    try:
        parse_tenant_settings({"cleaning": {"pii": {"kindz": []}}})
    except InvalidInput as exc:
        assert "cleaning.pii.kindz: unknown key" in exc.message
    else:
        raise AssertionError("an unknown key must be an error")


def test_near_duplicates_are_found_and_signatures_round_trip() -> None:
    base = " ".join(f"Section {i} states that returns are accepted within 45 days." for i in range(30))
    index = NearDuplicateIndex(0.9)
    index.add("doc-a", from_bytes(to_bytes(signature(base))))
    match = index.best_match(signature(base + " Updated in 2026."))
    assert match is not None and match[0] == "doc-a" and match[1] > 0.9
    assert index.best_match(signature("A completely different text about lunch menus and parking.")) is None


def test_language_tags() -> None:
    assert detect_lang("维川出行的保修政策") == "zh"
    assert detect_lang("横書き不能な書体も存在する") == "ja"
    assert detect_lang("적립 제외 대상") == "ko"
    assert detect_lang("The warranty of the bike is long") == "en"


def test_clean_document_reports_every_step() -> None:
    document = ParsedDocument("t", [Unit("section", None, [
        Block("Ｍａｉｌ jane.doe@example.com today"), Block("@@@@ #### $$$$ %%%% &&&& **** !!!!")])], "test")
    result = clean_document(document, CleaningConfig(), SECRET)
    assert result.report["pii"] == {"email": 1}
    assert result.report["quality"] == {"blocks_removed": {"garbage": 1}}
    assert document.units[0].blocks[0].text == "Mail [EMAIL] today"
