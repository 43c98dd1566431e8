# ruff: noqa: E501  (data tables of Chinese text: ruff counts a CJK character as two columns)
"""The rest of the sample company's files: service centres, datasheets, parts, dealers, policies,
projects, press releases, announcements and quality reports, in English and Chinese.

They are what makes evaluation big enough to trust (issue: ≥ 80 documents, ≥ 600 facts, a third
Chinese). Every value is invented and written from the tables below, so the questions are natural
ones a person would ask ("What are the opening hours of the Antwerp service centre?") and each
answer sits verbatim in its evidence. `UNANSWERABLE` lists questions about things these documents
never state (another product, a city without a centre, a role nobody holds), whose right answer
is a decline.
"""

from __future__ import annotations

from dataclasses import dataclass

from ownllm.samples import company as c
from ownllm.samples.builder import DocBuilder, DocSpec


@dataclass(frozen=True)
class Centre:
    city: str
    file: str
    fmt: str
    address: str
    phone: str
    hours: str
    manager: str
    technicians: str
    opened: str


CENTRES_EN = [
    Centre("Rotterdam", "service_centre_rotterdam.md", "markdown", "Keileweg 18, 3029 BS Rotterdam", "+31 10 555 0192",
           "08:30 to 17:30", "Femke Aldenhoven", "14 technicians", "March 2019"),
    Centre("Antwerp", "service_centre_antwerp.html", "html", "Noorderlaan 121, 2030 Antwerpen", "+32 3 555 0148",
           "09:00 to 18:00", "Wout Verhaegen", "9 technicians", "June 2020"),
    Centre("Hamburg", "service_centre_hamburg.rtf", "rtf", "Billstrasse 87, 20539 Hamburg", "+49 40 555 0163",
           "08:00 to 16:30", "Jannik Oberholz", "11 technicians", "September 2021"),
    Centre("Lyon", "service_centre_lyon.docx", "docx", "Rue de Gerland 64, 69007 Lyon", "+33 4 555 0177",
           "09:30 to 18:30", "Camille Rousselin", "7 technicians", "February 2022"),
    Centre("Milan", "service_centre_milan.txt", "text", "Via Mecenate 76, 20138 Milano", "+39 02 555 0185",
           "10:00 to 19:00", "Giulia Ferrabosco", "8 technicians", "May 2023"),
    Centre("Copenhagen", "service_centre_copenhagen.pdf", "pdf", "Vasbygade 42, 2450 Copenhagen",
           "+45 33 555 0129", "07:30 to 15:30", "Mads Vinterberg", "6 technicians", "October 2024"),
]
CENTRES_ZH = [
    Centre("上海", "上海服务中心.md", "markdown", "上海市闵行区申长路 988 号", "021-5550-3361", "9:00至18:00", "顾文涛",
           "16名技师", "2021年6月"),
    Centre("北京", "北京服务中心.docx", "docx", "北京市朝阳区酒仙桥路 14 号", "010-5550-4472", "8:30至17:30", "王思远",
           "12名技师", "2021年9月"),
    Centre("深圳", "深圳服务中心.txt", "text", "深圳市南山区科苑南路 3099 号", "0755-5550-2183", "10:00至19:00", "林晓薇",
           "10名技师", "2022年3月"),
    Centre("杭州", "杭州服务中心.html", "html", "杭州市西湖区文三路 478 号", "0571-5550-6624", "9:30至18:30", "陈柏宇",
           "8名技师", "2022年11月"),
    Centre("南京", "南京服务中心.pdf", "pdf", "南京市鼓楼区中山北路 281 号", "025-5550-7735", "8:00至16:30", "赵雨桐",
           "7名技师", "2023年5月"),
    Centre("武汉", "武汉服务中心.rtf", "rtf", "武汉市洪山区珞喻路 1037 号", "027-5550-8846", "9:00至17:00", "周明轩",
           "9名技师", "2024年4月"),
]


def centre_en(centre: Centre) -> DocSpec:
    d = DocBuilder(centre.file, centre.fmt, "en", f"Veltrano Service Centre {centre.city}")
    d.heading(f"Veltrano Service Centre {centre.city}")
    name = f"the {centre.city} service centre"
    d.para(f"The {centre.city} service centre opened in {centre.opened} and is located at {centre.address}.",
           (f"Where is the Veltrano service centre in {centre.city}?", centre.address),
           (f"When did the {centre.city} service centre open?", centre.opened))
    d.heading("Opening hours and contact", 2)
    email = f"{centre.city.lower()}.service@veltrano.example"
    d.para(f"From Monday to Friday the workshop is open from {centre.hours}. Call {centre.phone} to book a repair, "
           f"or write to {email}.",
           (f"What are the weekday opening hours of {name}?", centre.hours),
           (f"What is the phone number of {name}?", centre.phone),
           (f"What is the e-mail address of {name}?", email))
    d.heading("Team", 2)
    d.para(f"The centre is managed by {centre.manager} and employs {centre.technicians} trained on every Veltrano "
           "model.", (f"Who manages {name}?", centre.manager),
           (f"How many technicians work at {name}?", centre.technicians))
    return d.spec


CITY_CODES = {"上海": "sh", "北京": "bj", "深圳": "sz", "杭州": "hz", "南京": "nj", "武汉": "wh"}


def centre_zh(centre: Centre) -> DocSpec:
    d = DocBuilder(centre.file, centre.fmt, "zh", f"维川出行{centre.city}服务中心")
    d.heading(f"维川出行{centre.city}服务中心")
    d.para(f"{centre.city}服务中心于{centre.opened}开业，地址为{centre.address}。",
           (f"维川出行{centre.city}服务中心的地址在哪里？", centre.address),
           (f"{centre.city}服务中心是什么时候开业的？", centre.opened))
    d.heading("营业时间与联系方式", 2)
    email = f"service-{CITY_CODES[centre.city]}@veltrano.example"
    d.para(f"周一至周五的营业时间为{centre.hours}。预约维修请致电{centre.phone}，或发邮件至{email}。",
           (f"{centre.city}服务中心工作日的营业时间是几点到几点？", centre.hours),
           (f"{centre.city}服务中心的预约电话是多少？", centre.phone),
           (f"{centre.city}服务中心的邮箱是什么？", email))
    d.heading("团队", 2)
    d.para(f"中心负责人为{centre.manager}，共有{centre.technicians}，均接受过全部车型的培训。",
           (f"{centre.city}服务中心的负责人是谁？", centre.manager),
           (f"{centre.city}服务中心有多少名技师？", centre.technicians))
    return d.spec


@dataclass(frozen=True)
class Specs:
    charge: str
    load: str
    tyre: str
    frame: str
    gears: str
    ip: str
    brakes: str
    lumen: str
    speed: str
    colours: str
    display: str
    lock: str


SPECS = {  # per product code; Chinese datasheets state the same values in Chinese where they are words
    "VM-A300": Specs("4.5 hours", "120 kg", "28 x 1.6 inch", "6061 aluminium", "8 gears", "IPX4", "hydraulic disc",
                     "70 lux", "25 km/h", "slate grey and moss green", "2.2-inch colour display", "ring lock"),
    "VM-A500": Specs("6 hours", "130 kg", "28 x 2.0 inch", "6066 aluminium", "11 gears", "IPX5",
                     "four-piston hydraulic disc", "90 lux", "25 km/h", "midnight blue and sand",
                     "3.5-inch touch display", "frame lock with app unlock"),
    "VM-C120": Specs("7.5 hours", "200 kg", "20 x 2.4 inch", "steel", "5 gears", "IPX5", "hydraulic disc",
                     "100 lux", "25 km/h", "signal orange and black", "3.5-inch touch display", "chain lock"),
    "VM-S80": Specs("3.5 hours", "100 kg", "8.5 inch", "magnesium alloy", "single speed", "IPX4",
                    "front drum and rear electronic", "35 lux", "20 km/h", "white and graphite", "LED dot display",
                    "cable lock"),
    "VM-S95": Specs("5 hours", "110 kg", "10 inch", "aluminium alloy", "single speed", "IPX6", "dual disc",
                    "45 lux", "25 km/h", "graphite and copper", "1.9-inch colour display", "app lock"),
    "VM-K40": Specs("2.5 hours", "45 kg", "20 x 1.95 inch", "lightweight aluminium", "3 gears", "IPX4",
                    "V-brakes", "25 lux", "15 km/h", "sunflower yellow and sky blue", "no display", "no lock"),
}
COLOURS_ZH = {"VM-A300": "岩灰色和苔绿色", "VM-A500": "午夜蓝和沙色", "VM-C120": "信号橙和黑色", "VM-S80": "白色和石墨色",
              "VM-S95": "石墨色和铜色", "VM-K40": "向日葵黄和天蓝色"}
FRAME_ZH = {"VM-A300": "6061铝合金", "VM-A500": "6066铝合金", "VM-C120": "钢", "VM-S80": "镁合金", "VM-S95": "铝合金",
            "VM-K40": "轻量化铝合金"}
GEARS_ZH = {"VM-A300": "8速", "VM-A500": "11速", "VM-C120": "5速", "VM-S80": "单速", "VM-S95": "单速", "VM-K40": "3速"}
BRAKES_ZH = {"VM-A300": "液压碟刹", "VM-A500": "四活塞液压碟刹", "VM-C120": "液压碟刹", "VM-S80": "前鼓刹加后电子刹",
             "VM-S95": "双碟刹", "VM-K40": "V刹"}
DATASHEET_FORMATS = ["pdf", "docx", "html", "markdown", "pdf", "docx"]
_EXT = {"pdf": "pdf", "docx": "docx", "html": "html", "markdown": "md", "text": "txt", "rtf": "rtf", "eml": "eml",
        "csv": "csv", "xlsx": "xlsx", "pptx": "pptx"}


def datasheet_en(index: int) -> DocSpec:
    p, s = c.PRODUCTS[index], SPECS[c.PRODUCTS[index].code]
    fmt = DATASHEET_FORMATS[index]
    d = DocBuilder(f"datasheet_{p.code.lower()}.{_EXT[fmt]}", fmt, "en", f"{p.name} ({p.code}) technical datasheet")
    d.heading(f"{p.name} ({p.code}) technical datasheet")
    d.para(f"A full charge of the {p.code} takes {s.charge} with the standard charger, and the maximum total load "
           f"(rider plus luggage) is {s.load}.",
           (f"How long does it take to fully charge the {p.name}?", s.charge),
           (f"What is the maximum load of the {p.code}?", s.load))
    d.heading("Frame and drivetrain", 2)
    d.para(f"The frame is made of {s.frame}, the tyres are {s.tyre}, and the drivetrain has {s.gears}.",
           (f"What is the frame of the {p.code} made of?", s.frame),
           (f"What tyre size does the {p.name} use?", s.tyre),
           (f"How many gears does the {p.code} have?", s.gears))
    d.heading("Safety and weather", 2)
    d.para(f"It has {s.brakes} brakes, a front light of {s.lumen}, and the electronics are rated {s.ip} "
           f"against water. Assistance stops at {s.speed}.",
           (f"What kind of brakes does the {p.name} have?", s.brakes),
           (f"How bright is the front light of the {p.code}?", s.lumen),
           (f"What water protection rating do the {p.code} electronics have?", s.ip),
           (f"At what speed does the {p.name} stop assisting?", s.speed))
    d.heading("Equipment", 2)
    d.para(f"The {p.code} comes in {s.colours}, with a {s.display} and a {s.lock}.",
           (f"Which colours is the {p.name} available in?", s.colours),
           (f"What display does the {p.code} have?", s.display),
           (f"What lock comes with the {p.name}?", s.lock))
    return d.spec


def datasheet_zh(index: int) -> DocSpec:
    p, s = c.PRODUCTS[index], SPECS[c.PRODUCTS[index].code]
    fmt = ["docx", "pdf", "markdown", "html", "docx", "pdf"][index]
    d = DocBuilder(f"技术参数_{p.code}.{_EXT[fmt]}", fmt, "zh", f"{p.name_zh}（{p.code}）技术参数表")
    d.heading(f"{p.name_zh}（{p.code}）技术参数表")
    charge = s.charge.replace(" hours", "小时")
    load = s.load.replace(" kg", "公斤")
    d.para(f"{p.code}使用标准充电器充满电需要{charge}，最大总载重（骑行者加行李）为{load}。",
           (f"{p.name_zh}充满电需要多长时间？", charge),
           (f"{p.code}的最大载重是多少？", load))
    d.heading("车架与传动", 2)
    tyre = s.tyre.replace(" inch", "英寸")
    d.para(f"车架材料为{FRAME_ZH[p.code]}，轮胎规格为{tyre}，传动为{GEARS_ZH[p.code]}，刹车为{BRAKES_ZH[p.code]}。",
           (f"{p.code}的车架是什么材料？", FRAME_ZH[p.code]),
           (f"{p.name_zh}的轮胎规格是多少？", tyre),
           (f"{p.name_zh}有几个档位？", GEARS_ZH[p.code]),
           (f"{p.code}用的是什么刹车？", BRAKES_ZH[p.code]))
    d.heading("安全与防水", 2)
    lux = s.lumen.replace(" lux", "勒克斯")
    speed = s.speed.replace(" km/h", "公里/小时")
    d.para(f"前灯亮度为{lux}，电子系统防水等级为{s.ip}，助力在{speed}时停止。",
           (f"{p.code}的前灯亮度是多少？", lux),
           (f"{p.name_zh}电子系统的防水等级是什么？", s.ip),
           (f"{p.code}的助力在什么速度停止？", speed))
    d.heading("配置", 2)
    d.para(f"{p.code}提供{COLOURS_ZH[p.code]}两种颜色。",
           (f"{p.name_zh}有哪些颜色可选？", COLOURS_ZH[p.code]))
    return d.spec


PARTS_EN = [("brake pad set", "18.50 EUR"), ("inner tube 28 inch", "9.90 EUR"), ("chain KMC e11", "34.00 EUR"),
            ("rear derailleur", "89.00 EUR"), ("saddle comfort", "42.00 EUR"), ("mudguard set", "27.50 EUR"),
            ("kickstand", "22.00 EUR"), ("front light", "39.00 EUR"), ("rear light", "19.00 EUR"),
            ("charger VM-CH4", "119.00 EUR"), ("battery 540 Wh", "649.00 EUR"), ("battery 720 Wh", "789.00 EUR"),
            ("display unit", "159.00 EUR"), ("handlebar grips", "16.50 EUR"), ("pedal pair", "29.00 EUR"),
            ("brake lever", "31.00 EUR"), ("disc rotor 180 mm", "26.00 EUR"), ("speed sensor", "24.00 EUR"),
            ("cargo box liner", "58.00 EUR"), ("child seat adapter", "47.00 EUR"), ("scooter deck grip", "14.00 EUR"),
            ("scooter tyre 10 inch", "36.00 EUR"), ("folding latch", "21.50 EUR"), ("bell", "7.50 EUR"),
            ("phone holder", "23.00 EUR"), ("rear rack", "64.00 EUR"), ("frame lock key", "12.00 EUR"),
            ("motor cable", "28.50 EUR"), ("tyre 28 x 2.0", "44.00 EUR"), ("cassette 11-speed", "72.00 EUR"),
            ("bottom bracket", "38.00 EUR"), ("crank arm set", "55.00 EUR"), ("chainring 42T", "33.00 EUR"),
            ("spoke set", "19.50 EUR"), ("rim 28 inch", "69.00 EUR"), ("hub motor seal", "11.00 EUR"),
            ("torque sensor", "129.00 EUR"), ("controller board", "189.00 EUR"), ("USB charging port", "17.00 EUR"),
            ("reflector set", "8.50 EUR")]
PARTS_ZH = [("刹车片套装", "129 元"), ("28英寸内胎", "69 元"), ("链条", "239 元"), ("后拨", "619 元"),
            ("舒适座垫", "289 元"), ("挡泥板套装", "189 元"), ("脚撑", "149 元"), ("前灯", "269 元"), ("尾灯", "129 元"),
            ("充电器", "829 元"), ("540 Wh电池", "4,490 元"), ("720 Wh电池", "5,490 元"), ("仪表", "1,099 元"),
            ("车把套", "109 元"), ("脚踏一对", "199 元"), ("刹车把", "219 元"), ("180毫米碟片", "179 元"),
            ("速度传感器", "165 元"), ("货箱内衬", "399 元"), ("儿童座椅转接件", "329 元"), ("滑板车踏板胶", "99 元"),
            ("10英寸滑板车轮胎", "249 元"), ("折叠卡扣", "149 元"), ("车铃", "49 元"), ("手机支架", "159 元"),
            ("后货架", "449 元"), ("车锁钥匙", "79 元"), ("电机线", "199 元"), ("28 x 2.0外胎", "299 元"),
            ("11速飞轮", "499 元"), ("中轴", "259 元"), ("曲柄套装", "379 元"), ("42齿牙盘", "229 元"), ("辐条套装", "139 元"),
            ("28英寸轮圈", "469 元"), ("轮毂电机油封", "75 元"), ("力矩传感器", "889 元"), ("控制器主板", "1,299 元"),
            ("USB充电口", "119 元"), ("反光片套装", "59 元")]


def parts_en() -> DocSpec:
    d = DocBuilder("spare_parts_2026.xlsx", "xlsx", "en", "Spare parts price list 2026", "sheet")
    d.new_unit("Spare parts")
    rows = [["Part number", "Part", "Price"]]
    rows += [[f"VP-{1001 + i}", name, price] for i, (name, price) in enumerate(PARTS_EN)]
    d.table(rows, *[(f"How much does the spare {name} (VP-{1001 + i}) cost?", price)
                    for i, (name, price) in enumerate(PARTS_EN)])
    return d.spec


def parts_zh() -> DocSpec:
    d = DocBuilder("配件价格表.csv", "csv", "zh", "2026年配件价格表")
    rows = [["配件编号", "配件", "价格"]]
    rows += [[f"VP-{2001 + i}", name, price] for i, (name, price) in enumerate(PARTS_ZH)]
    d.table(rows, *[(f"配件{name}（VP-{2001 + i}）多少钱？", price) for i, (name, price) in enumerate(PARTS_ZH)])
    return d.spec


DEALERS_EN = [("Velora Cycles", "Utrecht", "2018", "1,240 vehicles", "Sanne de Vries", "html", "6 service bays"),
              ("Brightwheel GmbH", "Munich", "2019", "980 vehicles", "Lukas Brenner", "html", "5 service bays"),
              ("Cyclopolis", "Brussels", "2020", "610 vehicles", "Elise Marchal", "markdown", "3 service bays"),
              ("Fjord Bikes", "Oslo", "2021", "455 vehicles", "Ingrid Solheim", "text", "2 service bays"),
              ("Ruota Viva", "Turin", "2022", "530 vehicles", "Marco Bellandi", "eml", "4 service bays"),
              ("Kestrel Mobility", "Dublin", "2023", "390 vehicles", "Aoife Brennan", "docx", "1 service bay")]
DEALERS_ZH = [("骑迹车行", "苏州", "2021年", "1,860辆", "沈佳怡", "markdown", "7个维修工位"),
              ("绿风单车", "成都", "2022年", "1,320辆", "李俊峰", "text", "5个维修工位"),
              ("快轮出行", "广州", "2023年", "940辆", "黄诗琪", "docx", "3个维修工位")]


def dealer_en(index: int) -> DocSpec:
    name, city, since, volume, contact, fmt, bays = DEALERS_EN[index]
    file = "dealer_" + name.lower().replace(" ", "_").replace(".", "") + "." + _EXT[fmt]
    d = DocBuilder(file, fmt, "en", f"Dealer profile: {name}")
    d.heading(f"Dealer profile: {name}")
    d.para(f"{name} in {city} has been a Veltrano partner since {since}.",
           (f"In which city is the dealer {name}?", city),
           (f"Since when has {name} been a Veltrano partner?", since))
    d.para(f"In 2025 the shop sold {volume}. Its account contact is {contact}, and its workshop has {bays}.",
           (f"How many Veltrano vehicles did {name} sell in 2025?", volume),
           (f"Who is the contact person at {name}?", contact),
           (f"How many service bays does {name} have?", bays))
    return d.spec


def dealer_zh(index: int) -> DocSpec:
    name, city, since, volume, contact, fmt, bays = DEALERS_ZH[index]
    d = DocBuilder(f"经销商_{name}.{_EXT[fmt]}", fmt, "zh", f"经销商档案：{name}")
    d.heading(f"经销商档案：{name}")
    d.para(f"{name}位于{city}，自{since}起成为维川出行的合作经销商。",
           (f"经销商{name}在哪个城市？", city), (f"{name}从哪一年开始与维川出行合作？", since))
    d.para(f"2025年该店共售出{volume}，对接人为{contact}，店内有{bays}。",
           (f"{name}2025年卖了多少辆车？", volume), (f"{name}的对接人是谁？", contact),
           (f"{name}有几个维修工位？", bays))
    return d.spec


def travel_policy() -> DocSpec:
    d = DocBuilder("travel_expense_policy.docx", "docx", "en", "Travel and Expense Policy")
    d.heading("Travel and Expense Policy")
    d.para("Employees travelling for work receive a daily allowance of 62 EUR for meals.",
           ("What is the daily meal allowance on business trips?", "62 EUR"))
    d.para("Hotels may cost at most 165 EUR per night; a private car is reimbursed at 0.23 EUR per km.",
           ("What is the maximum hotel cost per night on business trips?", "165 EUR"),
           ("How much is reimbursed per km for a private car?", "0.23 EUR"))
    d.para("Flights longer than 6 hours may be booked in business class.",
           ("From what flight duration may employees fly business class?", "6 hours"))
    d.para("Expense claims must be submitted within 30 days of the trip.",
           ("Within how many days must expense claims be submitted?", "30 days"))
    return d.spec


def bonus_policy() -> DocSpec:
    d = DocBuilder("bonus_policy.pdf", "pdf", "en", "Annual Bonus Policy", "page")
    d.new_unit().heading("Annual Bonus Policy")
    d.para("The target bonus for staff is 8% of the annual base salary and for managers 15%.",
           ("What is the target bonus for staff?", "8%"), ("What is the target bonus for managers?", "15%"))
    d.para("Bonuses are paid with the March salary. The company must reach 90% of its revenue target for any "
           "bonus to be paid, and the maximum payout is 200% of target.",
           ("In which month are bonuses paid?", "March"),
           ("What share of the revenue target must be reached for bonuses to be paid?", "90%"),
           ("What is the maximum bonus payout?", "200%"))
    return d.spec


def code_of_conduct() -> DocSpec:
    d = DocBuilder("code_of_conduct.md", "markdown", "en", "Code of Conduct")
    d.heading("Code of Conduct")
    d.heading("Gifts", 2)
    d.para("Employees may accept gifts from business partners worth at most 50 EUR per year.",
           ("What is the maximum value of gifts employees may accept per year?", "50 EUR"))
    d.heading("Conflicts of interest", 2)
    d.para("A possible conflict of interest must be reported to the compliance officer within 10 working days.",
           ("Within how many days must a conflict of interest be reported?", "10 working days"))
    d.heading("Speaking up", 2)
    d.para("Concerns can be raised anonymously through the ethics line at +31 40 555 0199, run by Lotte Brandsma.",
           ("What is the number of the ethics line?", "+31 40 555 0199"),
           ("Who runs the ethics line?", "Lotte Brandsma"))
    return d.spec


def travel_policy_zh() -> DocSpec:
    d = DocBuilder("差旅报销制度.docx", "docx", "zh", "差旅报销制度")
    d.heading("差旅报销制度")
    d.para("员工因公出差每天可报销餐补180元。", ("出差每天的餐补是多少？", "180元"))
    d.para("住宿标准为一线城市每晚不超过650元，其他城市每晚不超过450元。",
           ("一线城市出差住宿每晚最多可以报销多少？", "650元"), ("其他城市出差住宿每晚的上限是多少？", "450元"))
    d.para("高铁可乘坐二等座，单程超过5小时可乘坐一等座。", ("高铁单程超过多长时间可以坐一等座？", "5小时"))
    d.para("报销单须在出差结束后15天内提交。", ("出差报销单要在多少天内提交？", "15天"))
    return d.spec


def bonus_policy_zh() -> DocSpec:
    d = DocBuilder("绩效奖金制度.pdf", "pdf", "zh", "绩效奖金制度", "page")
    d.new_unit().heading("绩效奖金制度")
    d.para("苏州公司员工的目标奖金为年度基本工资的2个月，经理为3个月。",
           ("苏州公司员工的目标奖金是几个月工资？", "2个月"), ("经理的目标奖金是几个月工资？", "3个月"))
    d.para("奖金在每年1月发放；绩效评级为C的员工不发放奖金；年度考核分为5个等级。",
           ("奖金在几月发放？", "1月"), ("年度考核分为几个等级？", "5个等级"))
    return d.spec


def conduct_zh() -> DocSpec:
    d = DocBuilder("员工行为准则.txt", "text", "zh", "员工行为准则")
    d.heading("员工行为准则")
    d.para("员工每年接受合作伙伴赠送的礼品总价值不得超过300元。", ("员工每年可以接受的礼品价值上限是多少？", "300元"))
    d.para("发现潜在利益冲突的，应在5个工作日内向合规部报告。", ("发现利益冲突后应在几个工作日内报告？", "5个工作日"))
    d.para("举报邮箱为ethics-cn@veltrano.example，由合规经理孙若琳负责。",
           ("举报邮箱是什么？", "ethics-cn@veltrano.example"), ("举报渠道由谁负责？", "孙若琳"))
    return d.spec


@dataclass(frozen=True)
class Project:
    name: str
    goal: str
    lead: str
    budget: str
    deadline: str
    team: str
    file: str
    fmt: str
    kickoff: str


PROJECTS_EN = [
    Project("Halcyon", "recycling used batteries", "Ruben Okonkwo", "2.4 million EUR", "June 2027", "9 people",
            "project_halcyon.docx", "docx", "2 February 2026"),
    Project("Orbit", "building version 3 of the rider app", "Hana Sorensen", "1.1 million EUR", "February 2027",
            "12 people", "project_orbit.pptx", "pptx", "16 March 2026"),
    Project("Pinewood", "fitting out the Warsaw assembly hall", "Piotr Zielinski", "6.8 million EUR",
            "September 2027", "21 people", "project_pinewood.md", "markdown", "4 May 2026"),
    Project("Lumen", "a brighter light system for all bikes", "Clara Eschbach", "0.6 million EUR", "April 2027",
            "5 people", "project_lumen.rtf", "rtf", "8 June 2026"),
    Project("Tandem", "a monthly bike subscription", "Noah Lindgren", "1.9 million EUR", "November 2027",
            "8 people", "project_tandem.html", "html", "1 September 2026"),
]
PROJECTS_ZH = [
    Project("青鸟", "开发适合中国市场的共享换电柜", "何静怡", "1,200万元", "2027年3月", "14人", "青鸟项目.docx", "docx", "2026年2月9日"),
    Project("长风", "在苏州工厂建设第二条装配线", "马志强", "3,500万元", "2027年8月", "26人", "长风项目.md", "markdown", "2026年4月13日"),
    Project("星河", "上线微信小程序商城", "蒋欣然", "480万元", "2027年1月", "9人", "星河项目.pptx", "pptx", "2026年7月6日"),
]


def project_en(p: Project) -> DocSpec:
    d = DocBuilder(p.file, p.fmt, "en", f"Project {p.name}", "slide" if p.fmt == "pptx" else "section")
    if p.fmt == "pptx":
        d.new_unit(f"Project {p.name}")
    d.heading(f"Project {p.name}")
    d.para(f"Project {p.name} is about {p.goal}. It is led by {p.lead}.",
           (f"Who leads Project {p.name}?", p.lead))
    if p.fmt == "pptx":
        d.new_unit("Budget and plan")
    d.bullets([f"Kick-off: {p.kickoff}", f"Budget: {p.budget}", f"Deadline: {p.deadline}", f"Team size: {p.team}"],
              (f"When did Project {p.name} kick off?", p.kickoff),
              (f"What is the budget of Project {p.name}?", p.budget),
              (f"When is Project {p.name} due?", p.deadline),
              (f"How many people work on Project {p.name}?", p.team))
    return d.spec


def project_zh(p: Project) -> DocSpec:
    d = DocBuilder(p.file, p.fmt, "zh", f"{p.name}项目", "slide" if p.fmt == "pptx" else "section")
    if p.fmt == "pptx":
        d.new_unit(f"{p.name}项目")
    d.heading(f"{p.name}项目")
    d.para(f"{p.name}项目的目标是{p.goal}，项目负责人为{p.lead}。", (f"{p.name}项目的负责人是谁？", p.lead))
    if p.fmt == "pptx":
        d.new_unit("预算与计划")
    d.bullets([f"启动时间：{p.kickoff}", f"预算：{p.budget}", f"截止时间：{p.deadline}", f"团队规模：{p.team}"],
              (f"{p.name}项目是什么时候启动的？", p.kickoff), (f"{p.name}项目的预算是多少？", p.budget), (f"{p.name}项目什么时候截止？", p.deadline),
              (f"{p.name}项目团队有多少人？", p.team))
    return d.spec


def press_releases() -> list[DocSpec]:
    specs = []
    d = DocBuilder("press_warsaw_plant.html", "html", "en", "Veltrano breaks ground on its Warsaw plant")
    d.heading("Veltrano breaks ground on its Warsaw plant")
    d.para("On 14 April 2026 Veltrano Mobility broke ground on its Warsaw plant, which will employ 180 people.",
           ("When did Veltrano break ground on the Warsaw plant?", "14 April 2026"),
           ("How many people will the Warsaw plant employ?", "180 people"))
    d.para("The plant will assemble up to 40,000 vehicles a year from 2027.",
           ("How many vehicles a year will the Warsaw plant assemble?", "40,000 vehicles"))
    specs.append(d.spec)
    d = DocBuilder("press_design_award.md", "markdown", "en", "Aurel Pro 500 wins the Eurobike design prize")
    d.heading("Aurel Pro 500 wins the Eurobike design prize")
    d.para("The Aurel Pro 500 won the Eurobike Gold Award on 26 June 2026, chosen from 312 entries.",
           ("When did the Aurel Pro 500 win the Eurobike Gold Award?", "26 June 2026"),
           ("How many entries competed for the Eurobike award?", "312 entries"))
    specs.append(d.spec)
    d = DocBuilder("press_results_2025.pdf", "pdf", "en", "Veltrano results for 2025", "page")
    d.new_unit().heading("Veltrano results for 2025")
    d.para("Veltrano Mobility's revenue grew to 141 million EUR in 2025, and 58,300 vehicles were delivered.",
           ("What was Veltrano's revenue in 2025?", "141 million EUR"),
           ("How many vehicles did Veltrano deliver in 2025?", "58,300 vehicles"))
    d.para("Scooters made up 37% of units sold.", ("What share of units sold were scooters in 2025?", "37%"))
    specs.append(d.spec)
    d = DocBuilder("press_subscription.docx", "docx", "en", "Veltrano launches bike subscriptions")
    d.heading("Veltrano launches bike subscriptions")
    d.para("From 1 March 2027 customers in the Netherlands can subscribe to an Aurel 300 for 59 EUR per month, "
           "service included.", ("How much does the Aurel 300 subscription cost per month?", "59 EUR"),
           ("When do bike subscriptions start?", "1 March 2027"))
    specs.append(d.spec)
    d = DocBuilder("新闻稿_苏州二期.md", "markdown", "zh", "维川出行苏州工厂二期开工")
    d.heading("维川出行苏州工厂二期开工")
    d.para("2026年5月20日，维川出行苏州工厂二期正式开工，总投资2.3亿元，建成后年产能将达到12万辆。",
           ("苏州工厂二期什么时候开工？", "2026年5月20日"), ("苏州工厂二期总投资是多少？", "2.3亿元"),
           ("苏州工厂二期建成后年产能是多少？", "12万辆"))
    specs.append(d.spec)
    d = DocBuilder("新闻稿_双十一.html", "html", "zh", "维川出行双十一销售创新高")
    d.heading("维川出行双十一销售创新高")
    d.para("2025年双十一期间，维川出行线上销售额达到8,600万元，斯普瑞格 80 售出6,400辆。",
           ("2025年双十一维川出行线上销售额是多少？", "8,600万元"), ("双十一期间斯普瑞格 80 卖了多少辆？", "6,400辆"))
    specs.append(d.spec)
    return specs


def announcements() -> list[DocSpec]:
    specs = []
    d = DocBuilder("announce_office_move.eml", "eml", "en", "Our Eindhoven office moves")
    d.heading("Our Eindhoven office moves")
    d.para("On 12 January 2027 the Eindhoven office moves to Strijp-T, building TQ, 4th floor.",
           ("When does the Eindhoven office move?", "12 January 2027"),
           ("Where does the Eindhoven office move to?", "Strijp-T, building TQ"))
    d.para("Parking is free for the first 3 months; after that a permit costs 35 EUR a month.",
           ("How much does a parking permit at the new office cost per month?", "35 EUR"))
    specs.append(d.spec)
    d = DocBuilder("announce_it_helpdesk.eml", "eml", "en", "New IT helpdesk hours")
    d.heading("New IT helpdesk hours")
    d.para("The IT helpdesk is reachable at extension 4357 from 07:00 to 19:00 on working days.",
           ("What is the extension of the IT helpdesk?", "4357"),
           ("When is the IT helpdesk reachable?", "07:00 to 19:00"))
    specs.append(d.spec)
    d = DocBuilder("announce_summer_party.eml", "eml", "en", "Summer party 2026")
    d.heading("Summer party 2026")
    d.para("The summer party takes place on 3 July 2026 at Strand Noord, starting at 16:00.",
           ("When is the summer party?", "3 July 2026"), ("Where is the summer party held?", "Strand Noord"))
    specs.append(d.spec)
    d = DocBuilder("通知_年会.eml", "eml", "zh", "2027年年会通知")
    d.heading("2027年年会通知")
    d.para("2027年年会将于1月22日在苏州金鸡湖国际会议中心举行，下午2点开始。",
           ("2027年年会在哪里举行？", "苏州金鸡湖国际会议中心"), ("年会几点开始？", "下午2点"))
    specs.append(d.spec)
    return specs


MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]


def quality_reports() -> list[DocSpec]:
    d = DocBuilder("quality_returns_2025.xlsx", "xlsx", "en", "Return rate by month, 2025", "sheet")
    d.new_unit("Returns 2025")
    rates = [f"{1.8 + 0.1 * ((i * 7) % 9):.1f}%" for i in range(12)]
    units = [f"{3900 + (i * 431) % 1700:,} units" for i in range(12)]
    rows = [["Month", "Return rate", "Units shipped"]]
    rows += [[m, r, u] for m, r, u in zip(MONTHS_EN, rates, units, strict=True)]
    d.table(rows, *[(f"What was the return rate in {m} 2025?", r) for m, r in zip(MONTHS_EN, rates, strict=True)],
            *[(f"How many units were shipped in {m} 2025?", u) for m, u in zip(MONTHS_EN, units, strict=True)])
    z = DocBuilder("质量月报_2025.xlsx", "xlsx", "zh", "2025年各月投诉数量", "sheet")
    z.new_unit("投诉")
    counts = [f"{40 + (i * 13) % 37}起" for i in range(12)]
    hours = [f"{18 + (i * 5) % 11}小时" for i in range(12)]
    rows = [["月份", "投诉数量", "平均处理时长"]] + [[f"{i + 1}月", n, h] for i, (n, h) in enumerate(zip(counts, hours,
                                                                                                    strict=True))]
    z.table(rows, *[(f"2025年{i + 1}月的投诉数量是多少？", n) for i, n in enumerate(counts)],
            *[(f"2025年{i + 1}月投诉的平均处理时长是多少？", h) for i, h in enumerate(hours)])
    return [d.spec, z.spec]


def more_documents() -> list[DocSpec]:
    specs = [centre_en(x) for x in CENTRES_EN] + [centre_zh(x) for x in CENTRES_ZH]
    specs += [datasheet_en(i) for i in range(len(c.PRODUCTS))] + [datasheet_zh(i) for i in range(len(c.PRODUCTS))]
    specs += [parts_en(), parts_zh()]
    specs += [dealer_en(i) for i in range(len(DEALERS_EN))] + [dealer_zh(i) for i in range(len(DEALERS_ZH))]
    specs += [travel_policy(), bonus_policy(), code_of_conduct(), travel_policy_zh(), bonus_policy_zh(), conduct_zh()]
    specs += [project_en(p) for p in PROJECTS_EN] + [project_zh(p) for p in PROJECTS_ZH]
    specs += press_releases() + announcements() + quality_reports()
    return specs


# About things no document states; the right answer is a decline. Numbers and codes named here appear nowhere.
UNANSWERABLE = [
    ("How much does the Aurel 700 cost?", "en"), ("What is the range of the VM-A900?", "en"),
    ("Who is Veltrano's chief financial officer?", "en"), ("What is the address of the Lisbon service centre?", "en"),
    ("Who manages the Vienna service centre?", "en"), ("What is Veltrano's share price?", "en"),
    ("How many patents does Veltrano hold?", "en"), ("What is the budget of Project Nimbus?", "en"),
    ("When does the VM-S60 scooter launch?", "en"), ("What is the maximum load of the VM-T200 trike?", "en"),
    ("How many vacation days do interns get?", "en"), ("Who leads Project Aurora?", "en"),
    ("What is the phone number of the Madrid service centre?", "en"),
    ("How much does the spare saddle bag (VP-1099) cost?", "en"), ("What was the return rate in January 2023?", "en"),
    ("Which dealer sells Veltrano bikes in Prague?", "en"), ("What is the daily meal allowance for interns abroad?", "en"),
    ("What colour options does the Keel 60 have?", "en"), ("How many employees work in the Warsaw office today?", "en"),
    ("What is the frame material of the Cinder Cargo Max?", "en"), ("When was the 2029 summer party held?", "en"),
    ("What is the wifi password of the Eindhoven office?", "en"), ("Who designed the Veltrano logo?", "en"),
    ("How much did Veltrano spend on advertising in 2025?", "en"), ("What is the top speed of the VM-X1?", "en"),
    ("奥瑞尔 800 的价格是多少？", "zh"), ("维川出行的首席财务官是谁？", "zh"), ("成都服务中心的地址在哪里？", "zh"),
    ("西安服务中心的负责人是谁？", "zh"), ("维川出行的股票代码是多少？", "zh"), ("维川出行有多少项专利？", "zh"),
    ("白鹭项目的预算是多少？", "zh"), ("VM-S60 什么时候上市？", "zh"), ("VM-T200 三轮车的最大载重是多少？", "zh"),
    ("实习生每年有多少天年假？", "zh"), ("天鹅项目的负责人是谁？", "zh"), ("重庆服务中心的电话是多少？", "zh"),
    ("配件 VP-2099 多少钱？", "zh"), ("2023年1月的投诉数量是多少？", "zh"), ("维川出行在西安的经销商是哪家？", "zh"),
    ("实习生出差的餐补是多少？", "zh"), ("基尔 60 有哪些颜色？", "zh"), ("华沙工厂现在有多少名员工？", "zh"),
    ("辛德载货车 Max 的车架是什么材料？", "zh"), ("2029年年会在哪里举行？", "zh"), ("苏州办公室的无线网络密码是什么？", "zh"),
    ("维川出行的标志是谁设计的？", "zh"), ("维川出行2025年的广告费用是多少？", "zh"), ("VM-X1 的最高速度是多少？", "zh"),
    ("苏州工厂三期什么时候开工？", "zh"),
]
