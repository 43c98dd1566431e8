"""The eval sets of the built-in apps: 20 cases each, half English, half Chinese, written here.

Cases are generated deterministically from the sample company (Veltrano Mobility's products,
prices and spare parts) and from written meeting scripts, chat logs, needs, requests and menus,
then stored as JSONL in `apps/evalsets/` (`python -m ownllm.apps.evalcases` rewrites them). A
case keeps its files as recipes: a chat export as its text, a sketch as the spec PIL draws,
a spoken Mandarin meeting or request as the script the offline voice speaks, so the sets stay
small and every file is made the same way each time.

Each case says what a good output contains (`expect`): owners and due dates of a meeting, the
conversations of a digest, the product of a plan, catalogue words a shopping list should
reach, the kind of a voice request. The scorecard counts how many of them the output holds.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zlib
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from ownllm.apps.inputs import AppFile
from ownllm.samples import company as c

APPS = ("meeting_minutes", "chat_digest", "marketing_plan", "shopping_plan", "voice_request", "sketch_to_app")
CASES_PER_LANGUAGE = 10

_EN_PEOPLE = ["Anna", "Ben", "Carla", "David", "Eva", "Femi", "Grace", "Hugo"]
_ZH_PEOPLE = ["王芳", "李强", "张伟", "刘洋", "陈静", "赵磊", "孙丽", "周敏"]
_EN_TOPICS = [
    (
        "the Aurel 300 spring campaign",
        "the dealer posters are printed",
        "launch the campaign on 14 April",
        "book the photo shoot",
        "send the dealer newsletter",
        "Do we add a test-ride day in Utrecht?",
    ),
    (
        "the Vienna service centre opening",
        "the lease is signed",
        "open the centre on 2 June",
        "hire two mechanics",
        "order the workshop tools",
        "Who pays for the shop sign?",
    ),
    (
        "spare battery stock",
        "battery stock covers three weeks",
        "reorder 300 batteries of 540 Wh",
        "confirm the supplier's delivery date",
        "update the stock dashboard",
        "Should we keep stock in Munich too?",
    ),
    (
        "the Sprig 80 brake complaint",
        "twelve customers reported squeaking brakes",
        "replace the pads free of charge",
        "write the service bulletin",
        "call the affected customers",
        "Is the 2025 batch affected as well?",
    ),
    (
        "dealer training in Munich",
        "eighteen dealers registered",
        "hold the training on 9 May",
        "prepare the training slides",
        "book the hotel rooms",
        "Can the training be recorded?",
    ),
]
_ZH_TOPICS = [
    (
        "苏州新门店开业",
        "装修已经完成",
        "五月一日正式开业",
        "联系装修公司验收",
        "准备开业宣传单",
        "开业当天要不要请媒体？",
    ),
    (
        "备用电池库存",
        "苏州仓库库存只够两周",
        "追加采购三百块电池",
        "确认供应商交货日期",
        "更新库存报表",
        "南京仓库要不要也备货？",
    ),
    (
        "刹车异响投诉",
        "本月收到十五起投诉",
        "免费更换刹车片",
        "写一份维修通知",
        "联系受影响的客户",
        "去年的批次是否也有问题？",
    ),
    ("经销商培训", "已有二十家经销商报名", "六月十日在上海举办培训", "准备培训材料", "预订会议室", "培训能不能录像？"),
    (
        "上门维修服务",
        "南京和无锡的需求在增长",
        "下个月起扩展到南京和无锡",
        "招聘两名维修技师",
        "制定上门服务价格表",
        "周末是否提供上门服务？",
    ),
]
_EN_DUES = ["Friday", "next Tuesday", "15 March", "the end of the month", "Monday"]
_ZH_DUES = ["周五", "下周二", "三月十五日", "月底", "下周一"]


def _meeting(lang: str, index: int, rng: random.Random) -> dict[str, Any]:
    people = rng.sample(_EN_PEOPLE if lang == "en" else _ZH_PEOPLE, 3)
    topic, status, decision, task1, task2, question = (_EN_TOPICS if lang == "en" else _ZH_TOPICS)[index % 5]
    due1, due2 = rng.sample(_EN_DUES if lang == "en" else _ZH_DUES, 2)
    a, b, d = people
    if lang == "en":
        lines = [
            f"{a}: Good morning, today we discuss {topic}.",
            f"{b}: Quick update: {status}.",
            f"{a}: Then we decided to {decision}.",
            f"{b}: I will {task1} by {due1}.",
            f"{a}: {d}, please {task2} by {due2}.",
            f"{d}: Fine. One open question: {question}",
            f"{a}: Thanks everyone, see you next week.",
        ]
    else:
        lines = [
            f"{a}：大家好，今天讨论{topic}。",
            f"{b}：先说进展，{status}。",
            f"{a}：我们决定{decision}。",
            f"{b}：我负责在{due1}前{task1}。",
            f"{a}：{d}，请你在{due2}前{task2}。",
            f"{d}：好的。还有一个问题：{question}",
            f"{a}：今天就到这里，谢谢大家。",
        ]
    case: dict[str, Any] = {"inputs": {}, "files": {}, "expect": {"terms": [b, d, due1, due2], "owners": [b, d]}}
    if lang == "zh" and index % 5 == 4:  # every fifth Chinese meeting is a recording: spoken, then transcribed
        case["files"]["recording"] = {"speech": "".join(line.split("：", 1)[1] for line in lines)}
        case["expect"] = {"terms": [due1, due2], "owners": []}
    else:
        stamped = [f"[00:{(i * 35) // 60:02d}:{(i * 35) % 60:02d}] {line}" for i, line in enumerate(lines)]
        case["inputs"]["transcript"] = "\n".join(stamped)
    return case


_EN_CHATS = [
    (
        "#service-desk",
        [
            ("Priya", "Morning! Twelve bikes are booked for service today."),
            ("Tom", "@{me} can you approve overtime for Saturday?"),
            ("Priya", "Decision: we stop accepting walk-ins after 4 pm this week."),
            ("Tom", "I will order brake pads before Thursday."),
            ("Priya", "The Aurel 300 display units arrived."),
        ],
        "walk-ins",
    ),
    (
        "#marketing",
        [
            ("Lena", "The spring brochure draft is in the shared folder."),
            ("Omar", "@{me} do you want the Keel 40 on the cover?"),
            ("Lena", "Agreed: the campaign starts on 14 April."),
            ("Omar", "To-do: Lena sends the print files to the printer by Friday."),
        ],
        "14 April",
    ),
]
_ZH_CHATS = [
    (
        "门店运营群",
        [
            ("周敏", "大家早，今天杭州店到货三十台城市车。"),
            ("孙磊", "@{me} 周六的试骑活动要不要加人手？"),
            ("钱刚", "决定：本周六起试骑活动改为上午十点开始。"),
            ("周敏", "我周四前把检查表发到群里。"),
            ("孙磊", "收到。"),
        ],
        "十点",
    ),
    (
        "售后服务群",
        [
            ("李强", "本月刹车异响投诉有十五起。"),
            ("王芳", "@{me} 维修通知今天能审批吗？"),
            ("李强", "决定：免费更换刹车片。"),
            ("王芳", "我负责明天联系受影响的客户。"),
        ],
        "刹车片",
    ),
]


def _chat_export(
    fmt: str, conversations: list[tuple[str, list[tuple[str, str]]]], me: str, start: int
) -> tuple[str, str]:
    """The export's file name and text; the first message of each conversation is already read."""
    rows = []
    moment = start
    for name, messages in conversations:
        for sender, text in messages:
            moment += 90
            rows.append((name, sender, moment, text.replace("{me}", me)))
    if fmt == "slack":
        data = [
            {
                "type": "message",
                "user": f"U{zlib.crc32(s.encode()) % 10**6:06d}",
                "user_profile": {"real_name": s},
                "text": t,
                "ts": f"{m}.000100",
            }
            for n, s, m, t in rows
        ]
        return f"{conversations[0][0].lstrip('#')}.json", json.dumps(data, ensure_ascii=False, indent=1)
    if fmt == "teams":
        data = {
            "topic": conversations[0][0],
            "value": [
                {
                    "id": str(m * 1000),
                    "messageType": "message",
                    "createdDateTime": _utc(m, "%Y-%m-%dT%H:%M:%S.000Z"),
                    "from": {"user": {"displayName": s}},
                    "body": {"contentType": "html", "content": f"<p>{t}</p>"},
                }
                for n, s, m, t in rows
                if n == conversations[0][0]
            ],
        }
        return "teams_chat.json", json.dumps(data, ensure_ascii=False, indent=1)
    if fmt == "feishu":
        chats = {f"oc_{i}": name for i, (name, _) in enumerate(conversations)}
        ids = {name: key for key, name in chats.items()}
        items = [
            {
                "message_id": f"om_{i}",
                "chat_id": ids[n],
                "create_time": str(m * 1000),
                "msg_type": "text",
                "sender": {"id": s, "sender_type": "user"},
                "body": {"content": json.dumps({"text": t}, ensure_ascii=False)},
            }
            for i, (n, s, m, t) in enumerate(rows)
        ]
        return "messages.json", json.dumps({"code": 0, "chats": chats, "data": {"items": items}}, ensure_ascii=False)
    if fmt == "dingtalk":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["群名称", "发送者", "发送时间", "消息内容"])
        for n, s, m, t in rows:
            writer.writerow([n, s, _utc(m, "%Y-%m-%d %H:%M:%S"), t])
        return "群聊记录.csv", out.getvalue()
    lines = []
    for name, _messages in conversations:
        lines.append(f"群聊: {name}")
        for n, s, m, t in rows:
            if n == name:
                lines += [f"{_utc(m, '%Y-%m-%d %H:%M:%S')} {s}", t]
    return "聊天记录.txt", "\n".join(lines) + "\n"


def _digest(lang: str, index: int, rng: random.Random) -> dict[str, Any]:
    fmt = ("slack", "teams")[index % 2] if lang == "en" else ("feishu", "dingtalk", "wechat")[index % 3]
    me = rng.choice(["Mia", "Noah", "Sofia"]) if lang == "en" else rng.choice(["陈静", "刘洋", "赵磊"])
    chats = _EN_CHATS if lang == "en" else _ZH_CHATS
    if fmt in ("slack", "teams"):  # one channel file, one chat: one conversation each
        chats = chats[(index // 2) % 2 : (index // 2) % 2 + 1]
    start = 1_772_000_000 + index * 86_400
    name, text = _chat_export(fmt, [(n, m) for n, m, _ in chats], me, start)
    names = [name.rsplit(".", 1)[0] if fmt == "slack" else conv for conv, _, _ in chats]
    return {
        "inputs": {"read_up_to": _iso(start + 90), "me": me, "format": fmt},  # the first message was read
        "files": {"export": {"name": name, "text": text}},
        "expect": {"terms": names + [keyword for _, _, keyword in chats], "owners": []},
    }


def _iso(epoch: int) -> str:
    return _utc(epoch, "%Y-%m-%dT%H:%M:%S")


def _utc(epoch: int, layout: str) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(layout)


_EN_AUDIENCES = [
    "city commuters",
    "families with young children",
    "delivery businesses",
    "students on campus",
    "retired cyclists",
]
_ZH_AUDIENCES = ["城市通勤族", "有小孩的家庭", "同城配送商家", "大学生", "退休骑行爱好者"]
_EN_PERIODS = ["Q2 2026", "summer 2026", "September 2026", "the holiday season", "spring 2027"]
_ZH_PERIODS = ["2026年第二季度", "2026年夏季", "2026年9月", "春节期间", "2027年春季"]


def _marketing(lang: str, index: int, rng: random.Random) -> dict[str, Any]:
    product = c.PRODUCTS[index % len(c.PRODUCTS)]
    budget = rng.choice([8000, 12500, 25000, 40000, 99999.99])
    if lang == "en":
        inputs = {
            "product": f"{product.name} ({product.code})",
            "audience": rng.choice(_EN_AUDIENCES),
            "budget": budget,
            "currency": "EUR",
            "period": rng.choice(_EN_PERIODS),
        }
        terms = [product.name]
    else:
        inputs = {
            "product": f"{product.name_zh}（{product.code}）",
            "audience": rng.choice(_ZH_AUDIENCES),
            "budget": budget * 7,
            "currency": "元",
            "period": rng.choice(_ZH_PERIODS),
        }
        terms = [product.code]
    return {"inputs": inputs, "files": {}, "expect": {"terms": terms, "owners": []}}


_EN_NEEDS = [
    ("commuting by e-bike through the winter: better lights and mudguards", ["light", "mudguard"]),
    ("a spare-parts kit for a bike workshop: brake pads, inner tubes and a chain", ["brake pad", "tube", "chain"]),
    ("keeping a cargo e-bike running for a bakery's deliveries", ["cargo", "brake"]),
    ("a second battery and charger for long tours", ["battery", "charger"]),
    ("making a kids' e-bike safe: a bell, lights and a kickstand", ["light", "kickstand"]),
]
_ZH_NEEDS = [
    ("冬天骑电助力车通勤，需要更亮的灯和挡泥板", ["灯", "挡泥板"]),
    ("给维修店备一套常用配件：刹车片、内胎和链条", ["刹车", "内胎", "链条"]),
    ("为面包店的载货车做日常保养", ["货", "刹车"]),
    ("长途骑行需要第二块电池和充电器", ["电池", "充电器"]),
    ("让儿童电助力车更安全：车铃、车灯和脚撑", ["车铃", "灯", "脚撑"]),
]


def _shopping(lang: str, index: int, rng: random.Random) -> dict[str, Any]:
    need, terms = (_EN_NEEDS if lang == "en" else _ZH_NEEDS)[index % 5]
    if index >= 5:
        need = ("For 3 riders: " if lang == "en" else "三个人用：") + need
    return {"inputs": {"need": need}, "files": {}, "expect": {"terms": terms, "owners": []}}


_EN_REQUESTS = [
    ("Tell me a bedtime story about a brave little turtle", "story"),
    ("Can you make up a story about a girl who builds a robot bicycle?", "story"),
    ("A short story about a sleepy dragon who loves pancakes, please", "story"),
    ("Make a playlist for a rainy Sunday morning", "playlist"),
    ("I need a playlist of songs for a road trip with kids", "playlist"),
    ("How do I cook a simple tomato pasta? Give me the recipe", "recipe"),
    ("Recipe for banana pancakes for breakfast", "recipe"),
    ("Tell me a story about a kind fox and a lost rabbit", "story"),
    ("Songs for a birthday party playlist", "playlist"),
    ("A recipe for vegetable soup that kids like", "recipe"),
]
_ZH_REQUESTS = [
    ("给我讲一个关于勇敢小乌龟的睡前故事", "story"),
    ("讲一个小女孩造机器人自行车的故事", "story"),
    ("讲一个爱吃饺子的小熊的故事", "story"),
    ("帮我做一个下雨天听的歌单", "playlist"),
    ("给孩子们做一个生日派对的歌单", "playlist"),
    ("番茄炒蛋怎么做？给我一个食谱", "recipe"),
    ("教我做红烧排骨的菜谱", "recipe"),
    ("讲一个小狐狸帮助小兔子回家的故事", "story"),
    ("推荐一个适合开车听的歌单", "playlist"),
    ("给我一个简单的蔬菜汤食谱", "recipe"),
]


def _voice(lang: str, index: int, rng: random.Random) -> dict[str, Any]:
    request, kind = (_EN_REQUESTS if lang == "en" else _ZH_REQUESTS)[index % 10]
    case: dict[str, Any] = {
        "inputs": {"age": rng.choice([4, 5, 6, 7, 8])},
        "files": {},
        "expect": {"kind": kind, "terms": [], "owners": []},
    }
    if lang == "zh" and index % 5 == 0:  # spoken: latency is measured from the end of the speech
        case["files"]["audio"] = {"speech": request}
    else:
        case["inputs"]["request"] = request
    return case


_EN_MENUS = [
    (
        "Noodle House",
        [
            ("Menu", ["Beef noodles $12", "Chicken soup $9", "Fried rice $10"]),
            ("Drinks", ["Green tea $3", "Lemonade $4"]),
        ],
        "Place order",
    ),
    (
        "Pizza Corner",
        [("Pizzas", ["Margherita $11", "Pepperoni $13", "Veggie $12"]), ("Sides", ["Garlic bread $5", "Salad $6"])],
        "Order now",
    ),
    (
        "Morning Cafe",
        [("Breakfast", ["Pancakes $8", "Omelette $9"]), ("Coffee", ["Latte $4", "Espresso $3", "Cappuccino $4"])],
        "Checkout",
    ),
]
_ZH_MENUS = [
    ("面馆点餐", [("主食", ["牛肉面 ¥18", "鸡汤面 ¥15", "炒饭 ¥16"]), ("饮料", ["绿茶 ¥5", "柠檬水 ¥6"])], "提交订单"),
    ("早餐店", [("早点", ["豆浆 ¥4", "油条 ¥3", "包子 ¥2"]), ("套餐", ["早餐套餐 ¥12"])], "去结算"),
    ("奶茶铺", [("奶茶", ["珍珠奶茶 ¥14", "芋泥奶茶 ¥16"]), ("果茶", ["柠檬茶 ¥12", "西瓜汁 ¥15"])], "立即下单"),
]


def _sketch(lang: str, index: int, rng: random.Random) -> dict[str, Any]:
    title, boxes, button = (_EN_MENUS if lang == "en" else _ZH_MENUS)[index % 3]
    spec = {"title": title, "boxes": [{"label": label, "items": items} for label, items in boxes], "button": button}
    labels = [title, button, *(label for label, _ in boxes)]
    return {
        "inputs": {},
        "files": {"sketch": {"draw": spec, "hand_drawn": index % 2 == 1, "seed": index}},
        "expect": {"terms": labels, "owners": []},
    }


_BUILDERS = {
    "meeting_minutes": _meeting,
    "chat_digest": _digest,
    "marketing_plan": _marketing,
    "shopping_plan": _shopping,
    "voice_request": _voice,
    "sketch_to_app": _sketch,
}


def build_cases(app: str) -> list[dict[str, Any]]:
    rng = random.Random(f"{app}-2026")
    cases = []
    for lang in ("en", "zh"):
        for index in range(CASES_PER_LANGUAGE):
            case = _BUILDERS[app](lang, index, rng)
            cases.append({"id": f"{app}-{lang}-{index + 1:02d}", "lang": lang, **case})
    return cases


def load_cases(app: str) -> list[dict[str, Any]]:
    text = resources.files("ownllm.apps").joinpath("evalsets", f"{app}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def case_files(case: dict[str, Any]) -> dict[str, AppFile]:
    """Make the case's files: draw the sketch, speak the Mandarin, write out the chat export."""
    files = {}
    for slot, recipe in case.get("files", {}).items():
        if "draw" in recipe:
            from ownllm.apps.sketch import draw_sketch

            files[slot] = AppFile(
                f"{case['id']}.png", draw_sketch(recipe["draw"], hand_drawn=recipe["hand_drawn"], seed=recipe["seed"])
            )
        elif "speech" in recipe:
            files[slot] = AppFile(f"{case['id']}.m4a", spoken(recipe["speech"]))
        else:
            data = recipe["text"].encode("gb18030" if recipe["name"].endswith(".csv") else "utf-8")
            files[slot] = AppFile(recipe["name"], data)
    return files


def spoken(text: str) -> bytes:
    """Mandarin speech from the offline voice (samples/speech.py), as M4A bytes."""
    import tempfile

    from ownllm.samples.speech import MandarinVoice, write_m4a

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.m4a"
        write_m4a(MandarinVoice().speak(text), path)
        return path.read_bytes()


def write_evalsets(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for app in APPS:
        lines = [json.dumps(case, ensure_ascii=False, sort_keys=True) for case in build_cases(app)]
        (folder / f"{app}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_evalsets(Path(__file__).parent / "evalsets")
