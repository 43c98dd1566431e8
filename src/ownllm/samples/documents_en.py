"""English documents of the sample company."""

from __future__ import annotations

from ownllm.samples import company as c
from ownllm.samples.builder import DocBuilder, DocSpec


def brochure() -> DocSpec:
    d = DocBuilder("brochure_2026.pdf", "pdf", "en", "Veltrano Mobility Product Brochure 2026", "page")
    d.new_unit("Our 2026 line-up").heading("Veltrano Mobility Product Brochure 2026")
    d.para(f"{c.COMPANY_EN} designs electric bikes and scooters in {c.FOUNDED_CITY}. "
           "This brochure lists every model we sell in 2026 with its price and key specifications.")
    for index, p in enumerate(c.PRODUCTS):
        if index in (2, 4):
            d.new_unit(f"Line-up, continued ({index // 2 + 1})")
        d.heading(f"{p.name} ({p.code})", 2)
        d.para(f"The {p.name} ({p.code}) is our {p.kind}. It sells for {p.price_usd} and launched on "
               f"{p.launch_date}.",
               (f"How much does the {p.name} ({p.code}) cost?", p.price_usd),
               (f"When did the {p.code} launch?", p.launch_date))
        d.para(f"Its {p.battery_wh} battery gives a range of up to {p.range_km}, the {p.motor_w} motor assists "
               f"up to 25 km/h, and the complete vehicle weighs {p.weight_kg}.",
               (f"What is the range of the {p.code}?", p.range_km),
               (f"How heavy is the {p.name}?", p.weight_kg),
               (f"What battery capacity does the {p.code} have?", p.battery_wh))
    return d.spec


def warranty_policy() -> DocSpec:
    d = DocBuilder("warranty_policy.pdf", "pdf", "en", "Warranty and Returns Policy", "page")
    d.new_unit().heading("Warranty and Returns Policy")
    d.para(f"Every {c.COMPANY_EN} frame is covered against manufacturing defects for {c.FRAME_WARRANTY_YEARS} "
           "from the date of delivery.",
           ("How long is the frame warranty on Veltrano bikes?", c.FRAME_WARRANTY_YEARS))
    d.heading("Motor and electronics warranty by model", 2)
    rows = [["Model", "Name", "Motor and electronics warranty"]]
    rows += [[p.code, p.name, p.warranty_months] for p in c.PRODUCTS]
    d.table(rows, *[(f"How long is the motor warranty of the {p.code}?", p.warranty_months)
                    for p in c.PRODUCTS])
    d.new_unit().heading("Batteries", 2)
    d.para(f"A battery whose capacity falls below {c.BATTERY_THRESHOLD} of its rating during the warranty "
           "period is replaced free of charge.",
           ("Below what capacity is a battery replaced for free under warranty?", c.BATTERY_THRESHOLD))
    d.heading("Returns", 2)
    d.para(f"Customers may return any product within {c.RETURN_DAYS} of delivery for a full refund.",
           ("How many days do customers have to return a product?", c.RETURN_DAYS))
    d.para(f"Opened products that are returned carry a restocking fee of {c.RESTOCKING_FEE} of the price.",
           ("What restocking fee applies to opened returns?", c.RESTOCKING_FEE))
    return d.spec


def employee_handbook() -> DocSpec:
    d = DocBuilder("employee_handbook.docx", "docx", "en", "Employee Handbook")
    d.heading("Employee Handbook").para(f"Welcome to {c.COMPANY_EN}. This handbook explains how we work.")
    d.heading("Time off", 2)
    d.para(f"Full-time employees receive {c.ANNUAL_LEAVE_DAYS} of paid annual leave per calendar year.",
           ("How many days of annual leave do full-time employees get?", c.ANNUAL_LEAVE_DAYS))
    d.para(f"Parents receive {c.PARENTAL_LEAVE} of fully paid parental leave.",
           ("How much paid parental leave does Veltrano offer?", c.PARENTAL_LEAVE))
    d.heading("Working from home", 2)
    d.para(f"Office staff may work remotely up to {c.REMOTE_DAYS} after agreeing it with their manager.",
           ("How often may office staff work remotely?", c.REMOTE_DAYS))
    d.heading("Learning and probation", 2)
    d.para(f"Each employee has a personal training budget of {c.TRAINING_BUDGET} per year.",
           ("What is the yearly personal training budget?", c.TRAINING_BUDGET))
    d.para(f"New hires complete a probation period of {c.PROBATION}.",
           ("How long is the probation period for new hires?", c.PROBATION))
    d.heading("Contacts", 2)
    d.table([["Role", "Name"], ["Chief Executive Officer", c.CEO], ["Chief Technology Officer", c.CTO],
             ["Head of Customer Support", c.HEAD_OF_SUPPORT], ["Head of Design", c.HEAD_OF_DESIGN]],
            ("Who is the CEO of Veltrano Mobility?", c.CEO),
            ("Who is Veltrano's Chief Technology Officer?", c.CTO),
            ("Who heads customer support at Veltrano?", c.HEAD_OF_SUPPORT))
    return d.spec


def board_minutes() -> DocSpec:
    d = DocBuilder("board_minutes_2026_q3.docx", "docx", "en", "Board Meeting Minutes, Q3 2026")
    d.heading("Board Meeting Minutes, Q3 2026")
    d.para(f"Present: {c.CEO} (chair), {c.CTO}, {c.HEAD_OF_DESIGN}, two independent directors. "
           "Meeting held on 17 September 2026 at the Eindhoven office.",
           ("On what date was the Q3 2026 board meeting held?", "17 September 2026"))
    d.heading("Decisions", 2)
    d.para(f"The board approved a new assembly plant in Warsaw with a budget of {c.WARSAW_BUDGET}; "
           "production is to start in April 2027.",
           ("What budget did the board approve for the Warsaw plant?", c.WARSAW_BUDGET),
           ("When is production at the Warsaw plant to start?", "April 2027"))
    d.para(f"The revenue target for fiscal year 2026 was confirmed at {c.REVENUE_TARGET}.",
           ("What is Veltrano's revenue target for 2026?", c.REVENUE_TARGET))
    d.heading("Action items", 2)
    d.bullets([f"{c.HEAD_OF_DESIGN} to present the 2027 cargo bike concept by 30 November 2026.",
               f"{c.CTO} to complete the firmware {c.FIRMWARE_ALARM} rollout to all scooters."],
              ("By when must the 2027 cargo bike concept be presented?", "30 November 2026"))
    return d.spec


def sales_kickoff() -> DocSpec:
    d = DocBuilder("sales_kickoff_2026.pptx", "pptx", "en", "Sales Kickoff 2026", "slide")
    d.new_unit("Sales Kickoff 2026").para(f"{c.COMPANY_EN} · January 2026")
    d.new_unit("Targets").bullets(["Grow dealer network to 340 stores", "Sprig scooters: 48,000 units"],
                                  ("How many dealer stores does the 2026 sales plan target?", "340 stores"))
    d.notes("Speaker notes: the Nordic region gets two new account managers in Q2.",
            ("How many new account managers does the Nordic region get?", "two"))
    d.new_unit("Price points").table([["Model", "Price"]] + [[p.code, p.price_usd] for p in c.PRODUCTS])
    return d.spec


def price_list() -> DocSpec:
    d = DocBuilder("price_list_2026.xlsx", "xlsx", "en", "Price List 2026", "sheet")
    d.new_unit("Vehicles").table([["Model", "Name", "Type", "Price", "Warranty"]]
                                 + [[p.code, p.name, p.kind, p.price_usd, p.warranty_months] for p in c.PRODUCTS])
    d.new_unit("Accessories").table([["Item", "Price"], ["VM-B540 spare battery", "410 USD"],
                                     [f"{c.CHARGER} 4 A fast charger", "95 USD"], ["Rear rack", "68 USD"]],
                                    ("How much does the VM-B540 spare battery cost?", "410 USD"))
    return d.spec


def support_faq() -> DocSpec:
    d = DocBuilder("support_faq.html", "html", "en", "Customer Support FAQ")
    d.heading("Customer Support FAQ")
    d.heading("How do I reach support?", 2)
    d.para(f"Call {c.SUPPORT_PHONE} or write to {c.SUPPORT_EMAIL}. Phone lines are open 08:00 to 20:00, "
           "Monday to Saturday (CET).",
           ("What is Veltrano's support phone number?", c.SUPPORT_PHONE),
           ("What email address does customer support use?", c.SUPPORT_EMAIL),
           ("What are the support phone hours?", "08:00 to 20:00"))
    d.heading("How long does shipping take?", 2)
    d.para(f"Standard shipping takes 4 to 6 business days and is free for orders above {c.FREE_SHIPPING_OVER}. "
           f"Express delivery within 2 business days costs {c.EXPRESS_FEE}.",
           ("Above what order value is shipping free?", c.FREE_SHIPPING_OVER),
           ("How much does express delivery cost?", c.EXPRESS_FEE))
    d.heading("How long does charging take?", 2)
    d.para(f"With the {c.CHARGER} charger a fully empty battery charges in {c.CHARGE_HOURS}.",
           ("How long does a full charge take with the VM-CH4 charger?", c.CHARGE_HOURS))
    return d.spec


def company_overview() -> DocSpec:
    d = DocBuilder("company_overview.md", "markdown", "en", "About Veltrano Mobility")
    d.heading("About Veltrano Mobility")
    d.para(f"{c.COMPANY_EN} was founded in {c.FOUNDED_YEAR} in {c.FOUNDED_CITY}, the Netherlands.",
           ("In what year was Veltrano Mobility founded?", c.FOUNDED_YEAR),
           ("In which city was Veltrano Mobility founded?", c.FOUNDED_CITY))
    d.heading("People", 2)
    d.para(f"The company employs {c.EMPLOYEES} people. It is led by chief executive {c.CEO}.",
           ("How many people does Veltrano employ?", c.EMPLOYEES))
    d.heading("China", 2)
    d.para(f"Our Chinese subsidiary, {c.CHINA_ENTITY_ZH}, opened in Suzhou in April 2021 and is run by "
           "general manager Zhong Lan.",
           ("Who runs Veltrano's Chinese subsidiary?", "Zhong Lan"))
    return d.spec


def firmware_notes() -> DocSpec:
    d = DocBuilder("firmware_release_notes.md", "markdown", "en", "Firmware Release Notes")
    d.heading("Firmware Release Notes")
    d.heading(f"Version {c.FIRMWARE_ALARM} (2 October 2026)", 2)
    d.para(f"Firmware {c.FIRMWARE_ALARM} adds a theft alarm with a {c.ALARM_DB} siren that sounds when a "
           "locked vehicle is moved.",
           ("How loud is the theft alarm siren?", c.ALARM_DB),
           ("Which firmware version added the theft alarm?", c.FIRMWARE_ALARM))
    d.heading(f"Version {c.FIRMWARE_HILL} (14 August 2026)", 2)
    d.para("Adds hill-hold assist, which keeps the bike still for 3 seconds on slopes when the rider stops.",
           ("For how many seconds does hill-hold assist hold the bike?", "3 seconds"))
    d.para(f"Firmware {c.FIRMWARE_HILL} introduced hill-hold assist.",
           ("Which firmware version introduced hill-hold assist?", c.FIRMWARE_HILL))
    return d.spec


def shipping_policy() -> DocSpec:
    d = DocBuilder("shipping_policy.txt", "text", "en", "Shipping Policy")
    d.para("VELTRANO MOBILITY SHIPPING POLICY")
    d.para("We ship from our warehouses in Eindhoven and Suzhou to 31 countries.",
           ("To how many countries does Veltrano ship?", "31 countries"))
    d.para("Orders placed before 14:00 CET on a business day leave the warehouse the same day.",
           ("Before what time must an order be placed to ship the same day?", "14:00 CET"))
    d.para("Cargo bikes such as the VM-C120 are delivered by a freight partner and need a signed delivery "
           "appointment.")
    return d.spec


def partner_program() -> DocSpec:
    d = DocBuilder("partner_program.html", "html", "en", "Dealer Partner Program")
    d.heading("Dealer Partner Program")
    d.para("Authorized dealers sell and service Veltrano vehicles. Gold partners must keep at least 12 "
           "demo vehicles in store.",
           ("How many demo vehicles must a Gold partner keep in store?", "12 demo vehicles"))
    d.para("Partners complete the two-day Veltrano Service Certification before selling cargo bikes.",
           ("How long is the Veltrano Service Certification?", "two-day"))
    return d.spec


def it_security_policy() -> DocSpec:
    d = DocBuilder("it_security_policy.txt", "text", "en", "IT Security Policy")
    d.para("IT SECURITY POLICY")
    d.para("Passwords must be at least 14 characters long and are changed every 180 days.",
           ("What is the minimum password length?", "14 characters"),
           ("How often must passwords be changed?", "180 days"))
    d.para("Laptops lock automatically after 5 minutes without input.",
           ("After how many minutes do laptops lock automatically?", "5 minutes"))
    return d.spec


def delivery_note_scan() -> DocSpec:
    d = DocBuilder("delivery_note_scan.png", "png", "en", "Delivery note", "page")
    d.new_unit().para("DELIVERY NOTE  No. DN-2026-08817")
    d.para("Customer: Hollowmere Cycles, Utrecht", ("Which customer received delivery note DN-2026-08817?",
                                                   "Hollowmere Cycles"))
    d.para("Items: 6 x VM-A300, 2 x VM-C120")
    d.para("Delivered: 3 October 2026")
    return d.spec


def workshop_rates_scan() -> DocSpec:
    """A scanned rate card: a ruled table, which OCR alone would read as one run of words."""
    d = DocBuilder("workshop_rates_scan.png", "png", "en", "Workshop rates", "page")
    d.new_unit().para("WORKSHOP RATES 2026  (Eindhoven service centre)")
    d.table([["Service", "Time", "Price"],
             ["Brake pad replacement", "30 min", "45 EUR"],
             ["Battery health check", "20 min", "25 EUR"],
             ["Motor diagnostics", "60 min", "80 EUR"],
             ["Wheel truing", "40 min", "35 EUR"]],
            ("How much does a battery health check cost at the Eindhoven service centre?", "25 EUR"),
            ("How long do motor diagnostics take at the workshop?", "60 min"))
    d.para("Prices include VAT. Parts are charged separately.")
    return d.spec


def english_documents() -> list[DocSpec]:
    return [brochure(), warranty_policy(), employee_handbook(), board_minutes(), sales_kickoff(), price_list(),
            support_faq(), company_overview(), firmware_notes(), shipping_policy(), partner_program(),
            it_security_policy(), delivery_note_scan(), workshop_rates_scan()]
