"""Chat exports of Slack, Teams, Feishu/Lark, DingTalk and WeChat as one normalized message list.

The unread-digest app summarizes what someone missed in their group chats. Every tool exports
differently (a zip of day files, Graph JSON, API JSON with JSON inside a string, GB18030 CSV,
plain text logs), so the format is detected by content, because uploaded file names lie, and
each message becomes a `ChatMessage`. An upload is untrusted: anything unreadable raises
`ChatExportError` naming the file and the reason, never a bare KeyError or TypeError.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any

from charset_normalizer import from_bytes
from lxml import etree
from lxml import html as lxml_html

FORMATS: tuple[str, ...] = ("slack", "teams", "feishu", "dingtalk", "wechat")
MAX_ZIP_BYTES = 50 * 1024 * 1024  # total uncompressed size a Slack zip may claim or yield
MAX_ZIP_MEMBERS = 5000
# what zipfile raises on damaged or unsupported archives (encrypted members: RuntimeError)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, ValueError,
               EOFError, zlib.error)
_EXPECTED = ("expected a Slack export zip or channel JSON, Microsoft Graph messages JSON, a Teams HTML export, "
             "Feishu im/v1 messages JSON, a DingTalk CSV or a WeChat text log")
_FMT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class ChatMessage:
    id: str  # the export's own id, else f"{conversation}#{index}" (1-based within the conversation)
    conversation: str
    sender: str
    sent_at: str  # "YYYY-MM-DDTHH:MM:SS": UTC where the export gives epoch times or offsets, else naive local
    text: str


class ChatExportError(ValueError):
    """An upload we cannot read as a chat export; the message names the file (or marker) and the reason."""


@dataclass
class _Row:  # a message before its id and position are settled
    conversation: str
    sender: str
    sent_at: str
    text: str
    id: str | None = None


@dataclass
class _Input:
    kind: str  # "zip" (payload: member path -> bytes), "json" (parsed value) or "text" (str)
    payload: Any
    json_error: str | None = None  # text that began like JSON but did not parse


def parse_chat_export(data: bytes, name: str, format: str | None = None) -> list[ChatMessage]:
    """Detect the format (or use the given one) and return messages sorted by (conversation, sent_at, original
    order), so a digest reads each conversation top to bottom whatever order the export used."""
    if format is not None and format not in FORMATS:
        raise ChatExportError(f"{name}: unknown chat export format {format!r} (expected one of {', '.join(FORMATS)})")
    source = _load(data, name) if data.strip() else None
    if source is None or (source.kind == "text" and not source.payload.strip()):
        raise ChatExportError(f"{name}: empty file")
    rows = _PARSERS[format or _detect(source, name)](source, name)
    counts: dict[str, int] = {}
    messages = []
    for i in sorted(range(len(rows)), key=lambda i: (rows[i].conversation, rows[i].sent_at, i)):
        row = rows[i]
        counts[row.conversation] = counts.get(row.conversation, 0) + 1
        row_id = row.id or f"{row.conversation}#{counts[row.conversation]}"
        messages.append(ChatMessage(row_id, row.conversation, row.sender, row.sent_at, row.text))
    return messages


def unread(messages: list[ChatMessage], read_up_to: str | None) -> list[ChatMessage]:
    """Messages after the "read up to" marker, in the given order. A message id marks that message's place in
    its conversation; other conversations count from its time. An ISO timestamp keeps messages strictly after it
    (compared like `sent_at`: an offset or Z is turned into UTC, a naive time is taken as is). None or a blank
    marker keeps all: a form field left empty means "nothing read yet"."""
    if read_up_to is None or not read_up_to.strip():
        return list(messages)
    anchor = next((i for i, message in enumerate(messages) if message.id == read_up_to.strip()), None)
    if anchor is not None:
        base = messages[anchor]
        return [m for i, m in enumerate(messages)
                if (i > anchor if m.conversation == base.conversation else m.sent_at > base.sent_at)]
    moment = _iso(read_up_to, f"read_up_to {read_up_to!r}: neither a message id of this export nor an ISO timestamp")
    return [m for m in messages if m.sent_at > moment]


def _load(data: bytes, name: str) -> _Input:
    if data[:2] == b"PK":
        return _Input("zip", _read_zip(data, name))
    text = _decode(data).lstrip("\ufeff")
    if text.lstrip()[:1] in ("{", "["):
        try:
            return _Input("json", json.loads(text))
        except json.JSONDecodeError as exc:
            return _Input("text", text, f"{exc.msg} at line {exc.lineno} column {exc.colno}")
        except RecursionError:
            return _Input("text", text, "nested too deeply")
    return _Input("text", text)


def _decode(data: bytes) -> str:
    """BOMs first, then UTF-8, then GB18030 (what Chinese Windows tools write), then a detector's guess."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def _read_zip(data: bytes, name: str) -> dict[str, bytes]:
    """The zip's JSON members, refusing archives that claim or inflate past the caps (zip bombs)."""
    too_big = ChatExportError(f"{name}: zip would unpack to more than {MAX_ZIP_BYTES // 2**20} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise ChatExportError(f"{name}: not a readable zip ({exc})") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ChatExportError(f"{name}: zip has {len(infos)} members (at most {MAX_ZIP_MEMBERS})")
    if sum(info.file_size for info in infos) > MAX_ZIP_BYTES:
        raise too_big
    members, budget = {}, MAX_ZIP_BYTES
    for info in infos:
        if info.is_dir() or not info.filename.lower().endswith(".json"):
            continue
        try:
            with archive.open(info) as handle:
                members[info.filename] = handle.read(budget + 1)  # never trust the declared size alone
        except _ZIP_ERRORS as exc:
            raise ChatExportError(f"{name}: cannot read {info.filename} from the zip ({exc})") from None
        budget -= len(members[info.filename])
        if budget < 0:
            raise too_big
    return members


_HTML_MESSAGE = re.compile(r"\bclass\s*=\s*[\"'][^\"'>]{0,512}?\bmessage\b", re.IGNORECASE)


def _detect(source: _Input, name: str) -> str:
    value = source.payload
    if source.kind == "zip":
        return "slack"
    if source.kind == "json":
        if isinstance(value, list) and all(isinstance(m, dict) for m in value) and (
                not value or any("ts" in m for m in value)):
            return "slack"
        if isinstance(value, dict) and isinstance(value.get("value"), list):
            return "teams"
        if isinstance(value, dict) and ({"code", "msg"} <= value.keys() or isinstance(_dig(value, "data", "items"),
                                                                                      list)):
            return "feishu"
    elif _HTML_MESSAGE.search(value):
        return "teams"
    elif _csv_header(value) is not None:
        return "dingtalk"
    elif any(_wechat_header(line) for line in value.splitlines()[:200]):
        return "wechat"
    elif source.json_error:
        raise ChatExportError(f"{name}: not valid JSON ({source.json_error})")
    raise ChatExportError(f"{name}: not a known chat export ({_EXPECTED})")


def _json(source: _Input, name: str, what: str) -> Any:
    if source.kind == "json":
        return source.payload
    reason = f"not valid JSON ({source.json_error})" if source.json_error else f"not {what}"
    raise ChatExportError(f"{name}: {reason}")


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _first(*values: Any) -> str:
    """The first value that is a non-empty string or number, as a stripped string ("" when none is)."""
    for value in values:
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return ""


def _stem(name: str) -> str:
    """The conversation a lone file stands for: its stem, or its folder for a Slack day file (general/2024-03-05)."""
    path = PurePath(name)
    return path.parent.name if re.fullmatch(r"\d{4}-\d{2}-\d{2}", path.stem) and path.parent.name else path.stem


def _epoch(value: Any, where: str, per_second: int = 1) -> str:
    try:
        return datetime.fromtimestamp(float(value) / per_second, tz=UTC).strftime(_FMT)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ChatExportError(f"{where}: unreadable epoch time {value!r}") from None


_TIME = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
                   r"\s*(Z|[+-]\d{2}:?\d{2})?")


def _iso(value: Any, error: str) -> str:
    """"YYYY-MM-DDTHH:MM:SS" from the date-time spellings exports use (an offset or Z is turned into UTC);
    ChatExportError(error) when the value is none of them."""
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    try:
        year, month, day, hour, minute, second, zone = match.groups()  # type: ignore[union-attr]
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except (AttributeError, ValueError):
        raise ChatExportError(error) from None
    if zone and zone != "Z":
        moment -= (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
    return moment.strftime(_FMT)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n").replace("\xa0", " "))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# lxml rather than BeautifulSoup: BeautifulSoup's tree building slows quadratically with nesting depth, and a
# hostile page nests deep; libxml2 also caps the depth
_HTML_PARSER = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
_BLOCKS = frozenset({"p", "div", "li", "tr", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"})
_INLINE = frozenset({"at", "emoji", "img", "br", "attachment", "script", "style"})


def _html_text(markup: str) -> str:
    try:
        return _element_text(lxml_html.fragment_fromstring(markup.encode(), create_parent="div", parser=_HTML_PARSER))
    except (etree.LxmlError, ValueError):
        return _tidy(markup)


def _element_text(root: Any) -> str:
    """Plain text of a message body: mentions become @name, emoji their character, blocks and <br> break lines."""
    parts: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _BLOCKS and parts and not parts[-1].endswith("\n"):
            parts.append("\n")  # a block starts and ends a line
        if event == "start" and tag in _INLINE:
            text = {"at": "@" + " ".join(element.text_content().split()), "br": "\n",
                    "img": f"[{element.get('alt') or 'image'}]",
                    "emoji": element.get("alt") or f":{element.get('id', '')}:"}.get(tag, "")
            walker.skip_subtree()
        elif event == "start":
            text = element.text if tag else ""
        else:
            text = element.tail if element is not root else ""
        if text:
            parts.append(text)
    return _tidy("".join(parts))


def _has_class(element: Any, *names: str) -> bool:
    return isinstance(element.tag, str) and not set(names).isdisjoint((element.get("class") or "").split())


def _inner(element: Any, *classes: str, tag: str = "") -> Any:
    """The first element inside `element` with one of the classes (or the tag), else None."""
    return next((e for e in element.iter() if e is not element and (_has_class(e, *classes) or e.tag == tag)), None)


_SLACK_DAY = re.compile(r"(?:^|/)([^/]+)/\d{4}-\d{2}-\d{2}\.json$")
_SLACK_REF = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def _parse_slack(source: _Input, name: str) -> list[_Row]:
    if source.kind != "zip":
        value = _json(source, name, "a Slack export (a workspace zip or a channel's JSON list of messages)")
        return _slack_messages(value, _stem(name), {}, name)
    members: dict[str, bytes] = source.payload
    users: dict[str, str] = {}
    for path in (path for path in members if PurePath(path).name == "users.json"):
        for user in _items(_member_json(members[path], name, path)):
            if isinstance(user, dict) and _first(user.get("id")):
                users[_first(user.get("id"))] = _first(_dig(user, "profile", "real_name"), user.get("real_name"),
                                                       _dig(user, "profile", "display_name"), user.get("name"))
    days = sorted((match.group(1), path) for path in members if (match := _SLACK_DAY.search(path)))
    if not days:
        raise ChatExportError(f"{name}: zip holds no Slack channel folders (expected <channel>/YYYY-MM-DD.json)")
    rows: list[_Row] = []
    for channel, path in days:
        rows += _slack_messages(_member_json(members[path], name, path), channel, users, f"{name}:{path}")
    return rows


def _member_json(content: bytes, name: str, path: str) -> Any:
    try:
        return json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ChatExportError(f"{name}: {path} is not valid JSON ({exc})") from None


def _slack_messages(value: Any, channel: str, users: dict[str, str], where: str) -> list[_Row]:
    if not isinstance(value, list):
        raise ChatExportError(f"{where}: not a Slack channel file (expected a JSON list of messages)")
    messages = [m for m in value if isinstance(m, dict) and m.get("ts") is not None]
    names = dict(users)  # a channel file alone still names the people who wrote in it
    for message in messages:
        user = _first(message.get("user"))
        if user and (real := _first(_dig(message, "user_profile", "real_name"), message.get("user_name"))):
            names.setdefault(user, real)
    rows = []
    for message in (m for m in messages if not re.search(r"_(join|leave)$", _first(m.get("subtype")))):
        user = _first(message.get("user"))
        sender = _first(_dig(message, "user_profile", "real_name"), message.get("user_name"), names.get(user),
                        message.get("username"), user) or "unknown"
        text = _slack_text(_first(message.get("text")), names)
        if not text and isinstance(message.get("files"), list):
            text = " ".join(f"[file: {_first(_dig(f, 'name'), _dig(f, 'title'))}]" for f in message["files"])
        rows.append(_Row(channel, sender, _epoch(message["ts"], where), text, _first(message["ts"])))
    return rows


def _slack_text(text: str, names: dict[str, str]) -> str:
    """Slack's markup: <@U1> and <@U1|name> mentions, <#C1|channel>, <!here>, <url|label>, &amp; escapes."""
    def ref(match: re.Match[str]) -> str:
        kind, target, label = match.group(1), match.group(2), match.group(3) or ""
        if kind == "@":
            return "@" + (names.get(target) or label or target)
        if kind == "!":
            return label if target.startswith("date") else "@" + (label or target).lstrip("@")
        return ("#" if kind == "#" else "") + (label or target)
    return html.unescape(_SLACK_REF.sub(ref, text)).strip()


def _parse_teams(source: _Input, name: str) -> list[_Row]:
    if source.kind == "text" and _HTML_MESSAGE.search(source.payload):
        return _teams_html(source.payload, name)
    value = _json(source, name, "a Teams export (Microsoft Graph messages JSON or an HTML export)")
    if not (isinstance(value, dict) and isinstance(value.get("value"), list)):
        raise ChatExportError(f"{name}: not Microsoft Graph messages JSON (expected an object with a \"value\" list)")
    title = _first(value.get("topic"), value.get("displayName"))
    rows = []
    for message in value["value"]:
        if not isinstance(message, dict) or message.get("messageType", "message") != "message" \
                or message.get("deletedDateTime"):
            continue
        body, message_id = message.get("body"), _first(message.get("id"))
        content = _first(_dig(body, "content"))
        text = _html_text(content) if _first(_dig(body, "contentType")).lower() == "html" else _tidy(content)
        sender = _first(_dig(message, "from", "user", "displayName"),
                        _dig(message, "from", "application", "displayName")) or "unknown"
        conversation = title or _first(message.get("chatId"), _dig(message, "channelIdentity", "channelId"))
        sent_at = _iso(message.get("createdDateTime"), f"{name}: message {message_id or '?'}: unreadable time "
                       f"{message.get('createdDateTime')!r}")
        rows.append(_Row(conversation or _stem(name), sender, sent_at, text, message_id or None))
    return rows


def _teams_html(text: str, name: str) -> list[_Row]:
    """The documented HTML shape: `.message` blocks with `.sender`, `<time datetime>` and `.body`, optionally
    inside a `.conversation` section named by `data-name` or its first heading."""
    try:
        page = lxml_html.document_fromstring(text.encode(), parser=_HTML_PARSER)
    except (etree.LxmlError, ValueError) as exc:
        raise ChatExportError(f"{name}: unreadable HTML ({exc})") from None
    rows = []
    for number, block in enumerate((e for e in page.iter() if _has_class(e, "message")), start=1):
        ancestors = list(block.iterancestors())
        if _has_class(block, "system") or any(_has_class(a, "message") for a in ancestors):
            continue
        section = next((a for a in ancestors if _has_class(a, "conversation")), None)
        heading = next(section.iter("h1", "h2", "h3"), None) if section is not None else None
        conversation = _first(section.get("data-name") if section is not None else None,
                              heading.text_content() if heading is not None else None) or _stem(name)
        sender, moment = _inner(block, "sender", "author", "from"), _inner(block, "time", "timestamp", tag="time")
        body = _inner(block, "body", "content", "text")
        if sender is None or moment is None:
            raise ChatExportError(f"{name}: message block {number} has no sender or time")
        when = _first(moment.get("datetime"), moment.text_content())
        rows.append(_Row(conversation, " ".join(sender.text_content().split()),
                         _iso(when, f"{name}: message block {number}: unreadable time {when!r}"),
                         _element_text(body) if body is not None else "", _first(block.get("data-id")) or None))
    if not rows:
        raise ChatExportError(f"{name}: no Teams message blocks (expected elements with class \"message\")")
    return rows


def _parse_feishu(source: _Input, name: str) -> list[_Row]:
    value = _json(source, name, "Feishu/Lark im/v1 messages JSON")
    items = _dig(value, "data", "items")
    if isinstance(value, dict) and value.get("code") not in (None, 0):
        raise ChatExportError(f"{name}: Feishu API answered code {value.get('code')} ({_first(value.get('msg'))})")
    if not isinstance(items, list):
        raise ChatExportError(f"{name}: not Feishu/Lark im/v1 messages JSON (expected data.items)")
    members, chats = _name_map(value.get("members") or value.get("users")), _name_map(value.get("chats"))
    rows = []
    for item in items:
        if not isinstance(item, dict) or item.get("deleted") or item.get("msg_type") == "system":
            continue
        mentions = {_first(m.get("key")): _first(m.get("name")) for m in _items(item.get("mentions"))
                    if isinstance(m, dict) and _first(m.get("key")) and _first(m.get("name"))}
        text = _feishu_text(_first(item.get("msg_type")), _dig(item, "body", "content"), mentions)
        chat, sender, message_id = _first(item.get("chat_id")), _first(_dig(item, "sender", "id")), \
            _first(item.get("message_id"))
        rows.append(_Row(chats.get(chat) or chat or _stem(name), members.get(sender) or sender or "unknown",
                         _epoch(item.get("create_time"), f"{name}: message {message_id or '?'}", 1000), text,
                         message_id or None))
    return rows


def _name_map(value: Any) -> dict[str, str]:
    """{id: name} from a mapping (to a name or to an object with one) or from a list of objects such as the
    `items` of Feishu's chat-members API."""
    if isinstance(value, dict):
        return {str(k): _first(v, _dig(v, "name")) for k, v in value.items() if _first(v, _dig(v, "name"))}
    entries = [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []
    pairs = ((_first(e.get("member_id"), e.get("open_id"), e.get("user_id"), e.get("chat_id"), e.get("id")),
              _first(e.get("name"))) for e in entries)
    return {key: person for key, person in pairs if key and person}


def _feishu_text(msg_type: str, content: Any, mentions: dict[str, str]) -> str:
    """The body's content is itself a JSON string; "post" is rich text whose runs are joined per paragraph."""
    try:
        body = json.loads(content) if isinstance(content, str) else content
    except json.JSONDecodeError:
        body = {"text": content}
    body = body if isinstance(body, dict) else {"text": _first(body)}
    if msg_type == "post":  # {"title", "content": [[run, ...], ...]}, possibly under a locale key
        post = body if "content" in body else next((v for v in body.values() if _dig(v, "content")), {})
        paragraphs = [p for p in _items(post.get("content")) if isinstance(p, list)]
        lines = [_first(post.get("title"))] + ["".join(map(_feishu_run, p)) for p in paragraphs]
        text = "\n".join(line for line in lines if line.strip())
    elif msg_type in ("text", ""):
        text = _first(body.get("text"))
    else:
        text = f"[{msg_type}: {_first(body.get('file_name'))}]" if _first(body.get("file_name")) else f"[{msg_type}]"
    for key in sorted(mentions, key=len, reverse=True):  # @_user_10 before @_user_1 can clip it
        text = text.replace(key, "@" + mentions[key])
    return _tidy(text.replace("@_all", "@all"))


def _feishu_run(run: Any) -> str:
    tag = _dig(run, "tag")
    if tag == "at":
        return "@" + name if (name := _first(run.get("user_name"))) else _first(run.get("user_id"))
    if tag in ("emotion", "img", "media"):
        return {"img": "[image]", "media": "[video]"}.get(tag) or f":{_first(run.get('emoji_type'))}:"
    return text if isinstance(text := _dig(run, "text"), str) else ""  # unstripped: runs are glued together


_COLUMNS = {  # the first alias found wins
    "sender": ("发送者", "发送人", "发言人", "发件人", "昵称", "sender", "from", "author", "user"),
    "time": ("发送时间", "时间", "消息时间", "日期", "time", "timestamp", "sent_at", "date"),
    "text": ("消息内容", "内容", "消息", "content", "message", "text"),
    "conversation": ("群名称", "群名", "会话", "会话名称", "群聊", "conversation", "group", "chat", "channel"),
    "id": ("消息id", "消息编号", "id", "message_id", "msgid"),
}


def _csv_header(text: str) -> tuple[int, str, dict[str, int]] | None:
    """(line index, delimiter, field -> column) of the header among the first lines, if one is recognizable."""
    for index, line in enumerate(text.splitlines()[:5]):
        delimiter = max(",\t;", key=line.count)
        try:
            cells = [cell.strip().lstrip("\ufeff").lower() for cell in next(csv.reader([line], delimiter=delimiter))]
        except (csv.Error, StopIteration):
            continue
        columns = {field: cells.index(alias) for field, aliases in _COLUMNS.items()
                   for alias in reversed(aliases) if alias in cells}
        if {"sender", "time", "text"} <= columns.keys():
            return index, delimiter, columns
    return None


def _parse_dingtalk(source: _Input, name: str) -> list[_Row]:
    header = _csv_header(source.payload) if source.kind == "text" else None
    if header is None:
        raise ChatExportError(f"{name}: no recognizable CSV header (expected columns like 发送者, 发送时间, 消息内容 "
                              "or sender, time, content)")
    index, delimiter, columns = header
    reader = csv.reader(io.StringIO("\n".join(source.payload.splitlines()[index + 1:])), delimiter=delimiter)
    rows = []
    try:
        for cells in reader:
            cell = {field: cells[column].strip() if column < len(cells) else "" for field, column in columns.items()}
            if not any(value.strip() for value in cells):
                continue
            where = f"{name}: row {reader.line_num + index + 1}"
            rows.append(_Row(cell.get("conversation") or _stem(name), cell["sender"] or "unknown",
                             _iso(cell["time"], f"{where}: unreadable time {cell['time']!r}"), _tidy(cell["text"]),
                             cell.get("id") or None))
    except csv.Error as exc:
        raise ChatExportError(f"{name}: broken CSV near row {reader.line_num + index + 1} ({exc})") from None
    return rows


_DT = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?"
_TIME_FIRST = re.compile(rf"\[?({_DT})\]?\s+(\S.{{0,59}})")
_NAME_FIRST = re.compile(rf"(\S.{{0,59}}?)\s+\[?({_DT})\]?")
_CONVERSATION = re.compile(r"(?:群聊|群名称|会话|会话名称|Group|Chat|Conversation)\s*[:：]\s*(\S.*)", re.IGNORECASE)


def _wechat_header(line: str) -> tuple[str, str, int] | None:
    """(sender, time, style) when the line starts a message: style 0 is `2024-03-05 09:12:33 张三`, style 1 is
    `张三 [2024-03-05 09:12]`."""
    for style, pattern in enumerate((_TIME_FIRST, _NAME_FIRST)):
        if match := pattern.fullmatch(line.strip()):
            return match.group(2 - style).rstrip(":：").strip(), match.group(1 + style), style
    return None


def _parse_wechat(source: _Input, name: str) -> list[_Row]:
    if source.kind != "text":
        raise ChatExportError(f"{name}: not a WeChat text log (expected lines like '2024-03-05 09:12:33 张三')")
    lines = source.payload.splitlines()
    headers = [_wechat_header(line) for line in lines]
    if not any(headers):
        raise ChatExportError(f"{name}: no message lines (expected lines like '2024-03-05 09:12:33 张三')")
    conversation, rows, body = _stem(name), [], []
    current: tuple[str, str] | None = None  # (sender, sent_at) of the message being read

    def flush() -> None:
        if current is not None and (text := _tidy("\n".join(body))):
            rows.append(_Row(conversation, current[0], current[1], text))

    def header_follows(number: int) -> bool:
        following = next((i for i in range(number + 1, len(lines)) if lines[i].strip()), None)
        return following is not None and headers[following] is not None

    started, style = False, None  # one header style per conversation, so "截止 2024-03-08 18:00" stays text
    for number, line in enumerate(lines):
        marker = _CONVERSATION.fullmatch(line.strip())
        if marker and (not started or header_follows(number)):  # later markers count only right before a message
            flush()
            conversation, current, body, started, style = marker.group(1).strip(), None, [], True, None
        elif (header := headers[number]) is not None and style in (None, header[2]):
            flush()
            style = header[2]
            current, body = (header[0], _iso(header[1], f"{name}: line {number + 1}: unreadable time")), []
        elif current is not None:
            body.append(line)
        started = started or bool(line.strip())
    flush()
    return rows


_PARSERS = {"slack": _parse_slack, "teams": _parse_teams, "feishu": _parse_feishu, "dingtalk": _parse_dingtalk,
            "wechat": _parse_wechat}
