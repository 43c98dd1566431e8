"""The invented facts of Veltrano Mobility (维川出行). No base model can know them.

Every document draws on these constants, so the price list, the brochure and the
Chinese manual always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY_EN = "Veltrano Mobility"
COMPANY_ZH = "维川出行"
FOUNDED_YEAR = "2017"
FOUNDED_CITY = "Eindhoven"
CHINA_ENTITY_ZH = "维川出行（苏州）有限公司"
CHINA_FOUNDED = "2021年4月"
EMPLOYEES = "412"
CEO = "Marisol Quenby"
CTO = "Tobias Lindqvist-Hara"
HEAD_OF_SUPPORT = "Ingrid Fallowmere"
HEAD_OF_DESIGN = "Priya Castellanos"
CHINA_GM_ZH = "钟岚"
SUPPORT_EMAIL = "support@veltrano.example"
SUPPORT_PHONE = "+31 40 555 0147"
CHINA_HOTLINE = "400-820-6617"


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    name_zh: str
    kind: str
    kind_zh: str
    price_usd: str
    price_cny: str
    battery_wh: str
    range_km: str
    weight_kg: str
    warranty_months: str
    launch_date: str
    launch_date_zh: str
    motor_w: str


PRODUCTS = [
    Product("VM-A300", "Aurel 300", "奥瑞尔 300", "city e-bike", "城市电助力自行车", "2,890 USD", "19,800 元",
            "540 Wh", "95 km", "21.4 kg", "30 months", "18 March 2026", "2026年3月18日", "250 W"),
    Product("VM-A500", "Aurel Pro 500", "奥瑞尔 Pro 500", "touring e-bike", "长途电助力自行车", "3,640 USD",
            "24,900 元", "720 Wh", "130 km", "22.9 kg", "36 months", "6 May 2026", "2026年5月6日", "350 W"),
    Product("VM-C120", "Cinder Cargo", "辛德载货车", "cargo e-bike", "电助力载货自行车", "4,210 USD", "28,600 元",
            "900 Wh", "110 km", "34.5 kg", "36 months", "12 November 2025", "2025年11月12日", "500 W"),
    Product("VM-S80", "Sprig 80", "斯普瑞格 80", "kick scooter", "电动滑板车", "740 USD", "4,980 元", "360 Wh",
            "42 km", "13.1 kg", "18 months", "22 January 2026", "2026年1月22日", "300 W"),
    Product("VM-S95", "Sprig Max 95", "斯普瑞格 Max 95", "long-range scooter", "长续航电动滑板车", "1,060 USD",
            "7,260 元", "480 Wh", "58 km", "15.8 kg", "24 months", "9 July 2026", "2026年7月9日", "400 W"),
    Product("VM-K40", "Keel 40", "基尔 40", "kids' e-bike", "儿童电助力自行车", "620 USD", "4,180 元", "250 Wh",
            "35 km", "11.2 kg", "12 months", "1 September 2026", "2026年9月1日", "180 W"),
]

# policies (English and Chinese documents state the same numbers)
RETURN_DAYS = "45 days"
RESTOCKING_FEE = "8%"
FREE_SHIPPING_OVER = "150 USD"
EXPRESS_FEE = "29 USD"
FRAME_WARRANTY_YEARS = "10 years"
BATTERY_THRESHOLD = "70%"
ANNUAL_LEAVE_DAYS = "27 days"
REMOTE_DAYS = "2 days per week"
PARENTAL_LEAVE = "20 weeks"
TRAINING_BUDGET = "1,800 EUR"
PROBATION = "4 months"
WARSAW_BUDGET = "14.5 million EUR"
REVENUE_TARGET = "186 million EUR"
FIRMWARE_HILL = "4.2.1"
FIRMWARE_ALARM = "4.3.0"
ALARM_DB = "95 dB"
CHARGER = "VM-CH4"
CHARGE_HOURS = "5.5 hours"
DEALER_MARGIN_ZH = "22%"
