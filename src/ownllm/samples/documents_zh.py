"""Chinese documents of the sample company (same facts as the English ones)."""

from __future__ import annotations

from ownllm.samples import company as c
from ownllm.samples.builder import DocBuilder, DocSpec


def _months_zh(months: str) -> str:
    return months.replace(" months", "个月")


def product_manual() -> DocSpec:
    d = DocBuilder("产品手册.pdf", "pdf", "zh", "维川出行产品手册", "page")
    d.new_unit("产品总览").heading("维川出行产品手册")
    d.para(f"{c.COMPANY_ZH}在中国市场销售以下电助力自行车和电动滑板车。本手册列出各型号的价格和主要参数。")
    for index, p in enumerate(c.PRODUCTS):
        if index == 3:
            d.new_unit("滑板车与儿童车")
        d.heading(f"{p.name_zh}（{p.code}）", 2)
        d.para(f"{p.code}是一款{p.kind_zh}，中国市场售价为{p.price_cny}，最大续航{p.range_km}，整车重量{p.weight_kg}。",
               (f"{p.code}在中国的售价是多少？", p.price_cny),
               (f"{p.name_zh}的最大续航是多少？", p.range_km),
               (f"{p.code}的整车重量是多少？", p.weight_kg))
    return d.spec


def warranty_zh() -> DocSpec:
    d = DocBuilder("保修政策.docx", "docx", "zh", "保修与退货政策")
    d.heading("保修与退货政策")
    d.heading("车架保修", 2)
    d.para("所有车架自交付之日起享受10年质保。", ("维川车架的质保期是多久？", "10年"))
    d.heading("电机与电子部件保修", 2)
    for p in c.PRODUCTS:
        d.para(f"{p.code}的电机与电子部件保修期为{_months_zh(p.warranty_months)}。",
               (f"{p.code}的电机保修期是多久？", _months_zh(p.warranty_months)))
    d.heading("退货", 2)
    d.para("顾客可在收货后45天内无理由退货。已拆封商品退货需收取8%的重新上架费。",
           ("收货后多少天内可以退货？", "45天"),
           ("已拆封商品退货收取多少重新上架费？", "8%"))
    return d.spec


def dealer_meeting() -> DocSpec:
    d = DocBuilder("经销商大会纪要.docx", "docx", "zh", "2026年经销商大会纪要")
    d.heading("2026年经销商大会纪要")
    d.para("会议于2026年6月12日在杭州举行，共有186家经销商参加。",
           ("2026年经销商大会在哪个城市举行？", "杭州"),
           ("2026年经销商大会有多少家经销商参加？", "186家"))
    d.heading("会议决定", 2)
    d.para(f"自2026年7月1日起，经销商标准毛利率调整为{c.DEALER_MARGIN_ZH}。",
           ("经销商标准毛利率调整为多少？", c.DEALER_MARGIN_ZH))
    d.para("年度最佳经销商奖授予成都锦程车行。", ("年度最佳经销商奖授予了哪家经销商？", "成都锦程车行"))
    d.heading("后续事项", 2)
    d.para(f"中国区总经理{c.CHINA_GM_ZH}负责在2026年底前新增40家门店。",
           ("中国区总经理是谁？", c.CHINA_GM_ZH),
           ("2026年底前计划新增多少家门店？", "40家"))
    return d.spec


def service_centers() -> DocSpec:
    d = DocBuilder("售后服务网点.html", "html", "zh", "售后服务网点")
    d.heading("售后服务网点")
    d.para(f"全国售后服务热线：{c.CHINA_HOTLINE}，服务时间为每天9:00至21:00。",
           ("维川的全国售后服务热线是多少？", c.CHINA_HOTLINE),
           ("售后热线的服务时间是几点到几点？", "9:00至21:00"))
    d.heading("网点列表", 2)
    d.table([["城市", "地址", "电话"],
             ["苏州", "工业园区星湖街218号", "0512-6655-0101"],
             ["上海", "徐汇区漕溪北路88号", "021-5550-3322"],
             ["成都", "高新区天府大道中段666号", "028-5550-7788"]],
            ("苏州售后网点的地址是什么？", "工业园区星湖街218号"),
            ("成都售后网点的电话是多少？", "028-5550-7788"))
    return d.spec


def store_operations() -> DocSpec:
    d = DocBuilder("门店运营规范.html", "html", "zh", "门店运营规范")
    d.heading("门店运营规范")
    d.heading("营业时间", 2)
    d.para("直营门店营业时间为每天10:00至21:00。", ("直营门店的营业时间是什么？", "10:00至21:00"))
    d.heading("试骑", 2)
    d.para("顾客试骑须出示身份证件，单次试骑时间不超过20分钟。",
           ("单次试骑时间不超过多少分钟？", "20分钟"))
    d.heading("陈列", 2)
    d.para("每家门店至少陈列6台整车，其中必须包括一台辛德载货车。",
           ("每家门店至少陈列几台整车？", "6台"))
    return d.spec


def company_profile_zh() -> DocSpec:
    d = DocBuilder("公司简介.md", "markdown", "zh", "维川出行公司简介")
    d.heading("维川出行公司简介")
    d.para(f"{c.COMPANY_ZH}于2017年在荷兰埃因霍温成立，是一家电动出行公司。",
           ("维川出行是哪一年成立的？", "2017年"))
    d.heading("中国业务", 2)
    d.para(f"中国子公司{c.CHINA_ENTITY_ZH}成立于{c.CHINA_FOUNDED}，位于苏州工业园区。",
           ("维川的中国子公司成立于什么时候？", c.CHINA_FOUNDED))
    d.para("中国区现有员工96人，研发中心主要负责电池管理系统。",
           ("中国区现有多少员工？", "96人"))
    return d.spec


def battery_safety() -> DocSpec:
    d = DocBuilder("电池安全须知.md", "markdown", "zh", "电池安全须知")
    d.heading("电池安全须知")
    d.heading("充电", 2)
    d.para("请在0至45摄氏度的环境温度下充电。", ("电池应在什么温度范围内充电？", "0至45摄氏度"))
    d.para(f"使用{c.CHARGER}充电器，电池从空电到充满约需5.5小时。",
           ("使用VM-CH4充电器充满电需要多久？", "5.5小时"))
    d.heading("存放", 2)
    d.para("长期存放时请将电量保持在50%至60%之间，并每3个月补电一次。",
           ("长期存放时电池电量应保持在多少？", "50%至60%"),
           ("长期存放的电池多久补电一次？", "每3个月"))
    return d.spec


def benefits_zh() -> DocSpec:
    d = DocBuilder("员工福利.txt", "text", "zh", "员工福利")
    d.para("维川出行（苏州）员工福利说明")
    d.para("全职员工每年享有27天带薪年假。", ("全职员工每年有多少天带薪年假？", "27天"))
    d.para("公司每月发放餐补600元，并每年安排一次免费体检。",
           ("每月餐补是多少？", "600元"))
    d.para("员工入职满三年后可申请一次为期两周的带薪学习假。",
           ("入职满几年可以申请带薪学习假？", "三年"))
    return d.spec


def price_list_zh() -> DocSpec:
    d = DocBuilder("价格表.xlsx", "xlsx", "zh", "2026年中国市场价格表", "sheet")
    d.new_unit("整车").table([["型号", "名称", "售价", "保修"]]
                             + [[p.code, p.name_zh, p.price_cny, _months_zh(p.warranty_months)]
                                for p in c.PRODUCTS])
    return d.spec


def launch_event_zh() -> DocSpec:
    d = DocBuilder("新品发布会.pptx", "pptx", "zh", "2026秋季新品发布会", "slide")
    d.new_unit("2026秋季新品发布会").para("基尔 40 儿童电助力自行车正式发布")
    p = c.PRODUCTS[5]
    d.new_unit("基尔 40").bullets([f"售价 {p.price_cny}", f"续航 {p.range_km}", f"上市日期 {p.launch_date_zh}"],
                                  ("基尔 40 的上市日期是哪天？", p.launch_date_zh))
    d.notes("演讲备注：发布会现场预订可获赠头盔一顶。", ("发布会现场预订可获赠什么？", "头盔一顶"))
    return d.spec


def after_sales_meeting() -> DocSpec:
    """A recorded meeting: spoken, so every figure is said in words (the evidence is what is heard)."""
    d = DocBuilder("售后周例会录音.m4a", "m4a", "zh", "售后服务周例会录音", "time")
    d.new_unit("", number=0)
    d.para("大家好，现在开始售后服务周例会。")
    d.para("第一项，苏州仓库的备用电池库存已经不足，采购部下周一补货。",
           ("哪个城市的仓库备用电池库存不足？", "苏州"),
           ("采购部什么时候给备用电池补货？", "下周一"))
    d.para("第二项，客户投诉最多的问题是刹车异响，维修团队要在本月底前给出解决方案。",
           ("维修团队要在什么时候之前给出解决方案？", "本月底"))
    d.para("第三项，从下个月开始，上门维修服务扩展到南京和无锡。", ("上门维修服务将扩展到哪个城市？", "南京"))
    d.para("今天的会议就到这里，谢谢大家。")
    return d.spec


def chinese_documents() -> list[DocSpec]:
    return [product_manual(), warranty_zh(), dealer_meeting(), service_centers(), store_operations(),
            company_profile_zh(), battery_safety(), benefits_zh(), price_list_zh(), launch_event_zh(),
            after_sales_meeting()]
