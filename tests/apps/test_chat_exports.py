"""Chat exports: every sample parses to the messages a person wrote, bad uploads fail with the file's name."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import zipfile
from pathlib import Path

import pytest

from ownllm.apps import chat_exports
from ownllm.apps.chat_exports import FORMATS, ChatExportError, ChatMessage, parse_chat_export, unread

SAMPLES = Path(chat_exports.__file__).parent / "samples" / "chat_exports"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def parse(name: str, **kwargs: str) -> list[ChatMessage]:
    return parse_chat_export(sample(name), name, **kwargs)


def by_text(messages: list[ChatMessage], start: str) -> ChatMessage:
    return next(m for m in messages if m.text.startswith(start))


def test_public_shape() -> None:
    assert FORMATS == ("slack", "teams", "feishu", "dingtalk", "wechat")
    assert issubclass(ChatExportError, ValueError)
    message = parse("wechat_chat.txt")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.text = "changed"  # type: ignore[misc]


def test_slack_workspace_zip() -> None:
    messages = parse("slack_export.zip")
    assert len(messages) == 9  # two join/leave events skipped
    assert [m.conversation for m in messages] == ["general"] * 3 + ["spring-launch"] * 6
    assert {m.sender for m in messages} == {"Maya Chen", "Tom Becker", "Priya Nair", "Leo Park"}
    first = messages[3]
    assert first.sent_at == "2024-03-04T08:15:00"  # epoch seconds, UTC
    assert first.id.startswith("1709540100.")  # Slack's ts is the id
    assert first.text == ("Morning all :wave: Quick check on the Trailhead 2 launch. @Tom Becker can you confirm "
                          "the dealer price list is final by Wednesday?")
    # no user_profile on the message: the name comes from users.json
    assert by_text(messages, "@Leo Park could you print").sender == "Priya Nair"
    assert by_text(messages, "Decision:").text.endswith(
        "at €1,299 & with a free first service. Thanks for weighing in!")
    assert by_text(messages, "TODO").text.endswith("draft to @Maya Chen by Thursday :memo:")
    assert by_text(messages, "Dealer deck").text == "Dealer deck for the launch: Trailhead 2 dealer deck"
    assert all(a.sent_at <= b.sent_at for a, b in itertools.pairwise(messages) if a.conversation == b.conversation)


def test_slack_channel_file_and_day_file() -> None:
    messages = parse("slack_workshop.json")
    assert len(messages) == 8
    assert {m.conversation for m in messages} == {"slack_workshop"}
    assert messages[1].text == "@Priya Nair can the workshop fit a rush brake check for a dealer customer at 2 pm?"
    assert by_text(messages, "To-do").text.endswith("tell @Sam Ortiz about the new Saturday shifts.")
    assert by_text(messages, "Spare parts").sender == "Sam Ortiz"  # user_name only
    assert by_text(messages, "Thanks").text == "Thanks <3 the dealer was happy with the quick turnaround."
    assert by_text(messages, "@Priya Nair got it").sender == "Sam Ortiz"
    with zipfile.ZipFile(SAMPLES / "slack_export.zip") as archive:
        day = archive.read("general/2024-03-05.json")
    assert {m.conversation for m in parse_chat_export(day, "general/2024-03-05.json")} == {"general"}


def test_slack_markup() -> None:
    channel = [
        {"ts": "1709640000.000100", "user": "U1", "user_profile": {"real_name": "Ann Lee"},
         "text": "<!here> see <#C42|launch> and <https://example.com/a?b=1&amp;c=2> &gt; <@U9|bo> <@U1>"},
        {"ts": "1709640060.000200", "user": "U1", "text": "", "files": [{"name": "price-list.xlsx"}]},
        {"ts": "1709640120.000300", "subtype": "bot_message", "username": "Deploy bot", "text": "done :rocket:"},
    ]
    messages = parse_chat_export(json.dumps(channel).encode(), "ops.json")
    assert [(m.sender, m.text) for m in messages] == [
        ("Ann Lee", "@here see #launch and https://example.com/a?b=1&c=2 > @bo @Ann Lee"),
        ("Ann Lee", "[file: price-list.xlsx]"),
        ("Deploy bot", "done :rocket:")]
    assert messages[0].sent_at == "2024-03-05T12:00:00"


def test_teams_graph_json() -> None:
    messages = parse("teams_graph_chat.json")
    assert len(messages) == 8  # system event and deleted message skipped
    assert {m.conversation for m in messages} == {"Dealer onboarding – Velo Nord"}
    assert [m.sent_at for m in messages] == sorted(m.sent_at for m in messages)  # Graph lists newest first
    assert messages[0] == ChatMessage(
        "1710153900000", "Dealer onboarding – Velo Nord", "Anna Schmidt", "2024-03-11T10:45:00",
        "Hi team, the Hamburg dealer Velo Nord signed the contract 🎉")
    assert messages[1].text == "@Tom Becker can you send them the starter kit order form today?"
    assert by_text(messages, "To-do").text == ("To-do for me: book the e-bike service training for the week of "
                                              "April 8 & share the agenda.")
    assert by_text(messages, "Order form").text == "Order form sent ✅\nThey asked for 12 Trailhead 2 demo bikes."
    assert messages[-1].text == "Great 👍"
    assert {m.sender for m in messages} == {"Anna Schmidt", "Tom Becker", "Jonas Weber"}


def test_teams_graph_conversation_fallbacks() -> None:
    graph = json.loads(sample("teams_graph_chat.json"))
    del graph["topic"]
    messages = parse_chat_export(json.dumps(graph).encode(), "chat.json")
    assert {m.conversation for m in messages} == {"19:4f7c2e1a9b8d4c6e8f0a1b2c3d4e5f6a@thread.v2"}
    for message in graph["value"]:
        del message["chatId"]
    offset = {"value": [{**graph["value"][1], "createdDateTime": "2024-03-11T15:15:00+02:00"}]}
    assert parse_chat_export(json.dumps(offset).encode(), "dealers.json") == [
        ChatMessage("1710162900000", "dealers", "Tom Becker", "2024-03-11T13:15:00",
                    "Order form sent ✅\nThey asked for 12 Trailhead 2 demo bikes.")]


def test_teams_html_export() -> None:
    messages = parse("teams_export.html")
    assert len(messages) == 9  # the system notice is skipped
    assert [m.conversation for m in messages] == ["Customer support"] * 5 + ["Warehouse"] * 4
    assert messages[1] == ChatMessage("cs-103", "Customer support", "Grace Liu", "2024-03-12T08:06:30",
                                      "@Omar Haddad could you check whether firmware 1.4.2 fixes the pairing issue?")
    assert messages[2].text == "It does. Tested on two bikes:\npairing works\nbattery readout is correct"
    assert messages[4].text == "To-do: I'll write the help-center article & the customer e-mail by Wednesday."
    assert by_text(messages, "Yes, the truck").text == "Yes, the truck leaves at 7:00 🚚"
    assert "<" not in "".join(m.text for m in messages)


def test_teams_html_without_sections_or_ids() -> None:
    page = ('<html><body><div class="message"><b class="author">Ann</b><span class="timestamp">2024-03-01 09:30'
            '</span><div class="content">Hi <at>Bo</at></div></div></body></html>')
    assert parse_chat_export(page.encode(), "exports/support.html") == [
        ChatMessage("support#1", "support", "Ann", "2024-03-01T09:30:00", "Hi @Bo")]


def test_feishu_messages() -> None:
    messages = parse("feishu_messages.json")
    assert len(messages) == 10  # the system message is skipped
    assert {m.conversation for m in messages} == {"北风自行车·门店运营", "北风自行车·售后服务"}
    assert {m.sender for m in messages} == {"王芳", "李强", "张伟", "陈静", "刘洋"}
    first = next(m for m in messages if m.id == "om_a001")
    assert first.sent_at == "2024-03-07T01:10:00"  # epoch milliseconds, UTC
    assert first.text == "@李强 上海门店三月的销售报表什么时候能发我？"
    post = next(m for m in messages if m.id == "om_a003")
    assert post.text == "周会结论\n决定：四月起所有门店周末营业时间延长到晚上九点。\n@王芳 请通知各店长。"
    assert next(m for m in messages if m.id == "om_a005").text == "[image]"
    todo = next(m for m in messages if m.id == "om_b004")
    assert todo.text == "待办：我来整理受影响的订单清单，@all 有补充的请私信我。"


def test_feishu_without_name_maps_keeps_ids() -> None:
    raw = json.loads(sample("feishu_messages.json"))
    del raw["members"], raw["chats"]
    messages = parse_chat_export(json.dumps(raw).encode(), "feishu.json")
    assert messages[0].conversation == "oc_5ad11d72b830411d72b836c20"
    assert messages[0].sender == "ou_wangfang"


def test_feishu_member_list_and_locale_post() -> None:
    runs = [{"tag": "text", "text": "见 "}, {"tag": "a", "text": "文档", "href": "x"},
            {"tag": "emotion", "emoji_type": "THUMBSUP"}]
    post = {"zh_cn": {"title": "", "content": [runs]}}
    raw = {"code": 0, "msg": "success", "members": [{"member_id": "ou_1", "name": "王芳"}], "data": {"items": [
        {"message_id": "om_1", "chat_id": "oc_1", "create_time": "1709600000000", "msg_type": "post",
         "sender": {"id": "ou_1"}, "body": {"content": json.dumps(post, ensure_ascii=False)}},
        {"message_id": "om_2", "chat_id": "oc_1", "create_time": "1709600001000", "msg_type": "file",
         "sender": {"id": "ou_2"}, "body": {"content": '{"file_key": "k", "file_name": "报价.pdf"}'}},
        {"message_id": "om_3", "chat_id": "oc_1", "create_time": "1709600002000", "msg_type": "text",
         "deleted": True, "sender": {"id": "ou_1"}, "body": {"content": '{"text": "撤回"}'}}]}}
    messages = parse_chat_export(json.dumps(raw, ensure_ascii=False).encode(), "lark.json")
    assert [(m.sender, m.text, m.sent_at) for m in messages] == [
        ("王芳", "见 文档:THUMBSUP:", "2024-03-05T00:53:20"), ("ou_2", "[file: 报价.pdf]", "2024-03-05T00:53:21")]


def test_dingtalk_csv_gb18030() -> None:
    data = sample("dingtalk_group.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    messages = parse_chat_export(data, "dingtalk_group.csv")
    assert len(messages) == 10
    assert [m.conversation for m in messages] == ["北风自行车-市场部"] * 5 + ["北风自行车-采购群"] * 5
    assert messages[5] == ChatMessage("北风自行车-采购群#1", "北风自行车-采购群", "赵磊", "2024-03-08T09:01:15",
                                      "各位早，台湾工厂的碳纤维车架报价到了，比上季度涨了 6%。")
    assert by_text(messages, "待办：\n").text == "待办：\n1. 周一前发采购单给工厂\n2. 更新库存表"
    assert by_text(messages, "@林悦").sender == "何涛"


def test_dingtalk_csv_utf8_bom_and_english_header() -> None:
    data = "\ufeffSender,Time,Content\nAnn,2024/3/1 9:05,\"Hi, all\"\nBo,2024/3/1 9:07:30,Done\n".encode()
    assert parse_chat_export(data, "team.csv") == [
        ChatMessage("team#1", "team", "Ann", "2024-03-01T09:05:00", "Hi, all"),
        ChatMessage("team#2", "team", "Bo", "2024-03-01T09:07:30", "Done")]
    chinese = "发送人\t时间\t内容\n张三\t2024-03-01 09:05\t你好\n".encode("gb18030")
    assert parse_chat_export(chinese, "群.tsv")[0].text == "你好"


def test_wechat_log() -> None:
    messages = parse("wechat_chat.txt")
    assert len(messages) == 11
    assert [m.conversation for m in messages] == ["北风自行车 华东区店长群"] * 6 + ["北风自行车 售后小组"] * 5
    assert messages[2] == ChatMessage("北风自行车 华东区店长群#3", "北风自行车 华东区店长群", "周敏",
                                      "2024-03-06T09:05:00", "需要，检查完再上架。\n检查表在共享盘“门店/PDI”文件夹里。")
    assert messages[7] == ChatMessage("北风自行车 售后小组#2", "北风自行车 售后小组", "郑浩", "2024-03-06T14:26:00",
                                      "@吴婷 车还在保修期内吗？")
    assert {m.sender for m in messages} == {"周敏", "孙磊", "钱刚", "吴婷", "郑浩"}


def test_wechat_without_conversation_line() -> None:
    log = "Group chat log\n2024-03-05 09:12:33 Ann:\nHello\n\nsecond line\n[2024/03/05 09:13] 张三\n好的\n"
    assert parse_chat_export(log.encode(), "launch.txt") == [
        ChatMessage("launch#1", "launch", "Ann", "2024-03-05T09:12:33", "Hello\n\nsecond line"),
        ChatMessage("launch#2", "launch", "张三", "2024-03-05T09:13:00", "好的")]


def test_wechat_text_that_looks_like_the_other_header_style() -> None:
    """A conversation keeps the header style it started with, so a line ending in a date stays message text."""
    log = "会话：采购\n2024-03-05 09:12 张三\n新的截止时间 2024-03-08 18:00\n2024-03-05 09:20 李四\n好\n"
    messages = parse_chat_export(log.encode(), "log.txt")
    assert [(m.sender, m.text) for m in messages] == [("张三", "新的截止时间 2024-03-08 18:00"), ("李四", "好")]
    assert {m.conversation for m in messages} == {"采购"}


def test_html_comments_depth_and_nested_quotes() -> None:
    body = '<div class="body">a<!-- hidden -->b<br>c<div class="message"><span class="sender">Q</span></div></div>'
    page = f'<div class="message"><span class="sender">Ann</span><time>2024-03-01 09:30</time>{body}</div>'
    assert parse_chat_export(page.encode(), "p.html")[0].text == "ab\nc\nQ"
    deep = page.replace(body, '<div class="body">' + "<div>" * 20000 + "x" + "</div>" * 20000 + "</div>")
    assert parse_chat_export(deep.encode(), "deep.html")[0].sender == "Ann"  # fast: lxml caps the depth


@pytest.mark.parametrize(("sample_name", "misleading_name", "expected"), [
    ("feishu_messages.json", "export.csv", 10),
    ("dingtalk_group.csv", "chat.txt", 10),
    ("wechat_chat.txt", "log.json", 11),
    ("slack_export.zip", "backup.dat", 9),
    ("teams_export.html", "teams.txt", 9),
    ("teams_graph_chat.json", "teams.html", 8),
    ("slack_workshop.json", "workshop.csv", 8),
])
def test_detection_ignores_the_extension(sample_name: str, misleading_name: str, expected: int) -> None:
    assert len(parse_chat_export(sample(sample_name), misleading_name)) == expected


def test_explicit_format() -> None:
    assert len(parse_chat_export(sample("wechat_chat.txt"), "x.bin", format="wechat")) == 11
    with pytest.raises(ChatExportError, match=r"^x\.csv: not Feishu"):
        parse_chat_export(sample("dingtalk_group.csv"), "x.csv", format="feishu")
    with pytest.raises(ChatExportError, match=r"^x\.json: no recognizable CSV header"):
        parse_chat_export(sample("feishu_messages.json"), "x.json", format="dingtalk")


def test_unread_by_message_id() -> None:
    messages = parse("slack_export.zip")
    marker = by_text(messages, "@Leo Park could you print")  # general, 2024-03-05T09:45:00
    rest = unread(messages, marker.id)
    assert [m.text[:12] for m in rest] == ["Sure, I'll p", "Decision: we", "TODO for me:", "Dealer deck "]
    assert unread(messages, messages[-1].id) == []


def test_unread_by_timestamp() -> None:
    messages = parse("slack_export.zip")
    assert [m.sender for m in unread(messages, "2024-03-05T10:00:00")] == ["Leo Park", "Tom Becker"]
    assert unread(messages, "2024-03-05T11:00:00+01:00") == unread(messages, "2024-03-05T10:00:00")
    assert unread(messages, "2024-03-05 09:50") == unread(messages, "2024-03-05T09:50:00")
    assert len(unread(messages, "2024-03-05")) == 6
    assert unread(messages, None) == unread(messages, "  ") == messages


def test_unread_unknown_marker() -> None:
    with pytest.raises(ChatExportError, match="no-such-message"):
        unread(parse("wechat_chat.txt"), "no-such-message")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in members.items():
            archive.writestr(path, content)
    return buffer.getvalue()


BAD_INPUTS = {
    "empty": (b"", "empty file"),
    "blank": (b" \n\t\n", "empty file"),
    "bom only": (b"\xef\xbb\xbf", "empty file"),
    "wrong json": (b'{"messages": [{"text": "hi"}]}', "not a known chat export"),
    "json scalar list": (b"[1, 2, 3]", "not a known chat export"),
    "broken json": (b'{"value": [', "not valid JSON"),
    "csv without header": (b"a,b,c\n1,2,3\n", "not a known chat export"),
    "plain prose": ("这只是一段普通的文字。\nJust text.".encode(), "not a known chat export"),
    "broken zip": (b"PK\x03\x04 this is not really a zip", "not a readable zip"),
    "zip without channels": (zip_bytes({"users.json": b"[]"}), "no Slack channel folders"),
    "zip member not json": (zip_bytes({"general/2024-03-05.json": b"{oops"}), "not valid JSON"),
    "zip member not a list": (zip_bytes({"general/2024-03-05.json": b'{"ts": "1"}'}), "expected a JSON list"),
    "slack bad ts": (b'[{"ts": "yesterday", "text": "hi"}]', "unreadable epoch time"),
    "teams bad time": (b'{"value": [{"id": "1", "createdDateTime": 5, "body": 3, "from": []}]}', "unreadable time"),
    "feishu api error": (b'{"code": 230002, "msg": "bot not in chat", "data": {}}', "230002"),
    "feishu bad time": (b'{"code": 0, "data": {"items": [{"body": {"content": 5}, "mentions": [1]}]}}',
                        "unreadable epoch time"),
    "dingtalk bad time": ("发送者,发送时间,消息内容\n张三,昨天,你好\n".encode(), "row 2: unreadable time"),
    "html without times": (b'<div class="message"><span class="sender">A</span>hi</div>', "no sender or time"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_the_file(case: str) -> None:
    data, reason = BAD_INPUTS[case]
    with pytest.raises(ChatExportError) as raised:
        parse_chat_export(data, "upload.bin")
    assert str(raised.value).startswith("upload.bin")
    assert reason in str(raised.value)


def test_unknown_format_name() -> None:
    with pytest.raises(ChatExportError, match=r"^team\.json: unknown chat export format 'skype'"):
        parse_chat_export(sample("slack_workshop.json"), "team.json", format="skype")


def test_zip_caps() -> None:
    many = zip_bytes({f"general/{i}.txt": b"" for i in range(chat_exports.MAX_ZIP_MEMBERS + 1)})
    with pytest.raises(ChatExportError, match=r"^many\.zip: zip has 5001 members"):
        parse_chat_export(many, "many.zip")
    bomb = zip_bytes({"general/2024-03-05.json": b"[" + b" " * (chat_exports.MAX_ZIP_BYTES + 10) + b"]"})
    assert len(bomb) < 200_000
    with pytest.raises(ChatExportError, match=r"^bomb\.zip: zip would unpack to more than 50 MB"):
        parse_chat_export(bomb, "bomb.zip")


def test_zip_cap_holds_when_sizes_lie() -> None:
    """A zip whose central directory understates a member's size is still stopped (by the CRC or the budget)."""
    data = bytearray(zip_bytes({"general/2024-03-05.json": b"[" + b" " * 1000 + b"]"}))
    directory = data.rfind(b"PK\x01\x02")
    data[directory + 24:directory + 28] = (2).to_bytes(4, "little")  # declared uncompressed size
    with pytest.raises(ChatExportError, match=r"^liar\.zip: "):
        parse_chat_export(bytes(data), "liar.zip")
