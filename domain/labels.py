"""Enumerations whose values are stable codes and whose labels are what operators read (Chinese)."""

from enum import StrEnum


class Labelled(StrEnum):
    """A StrEnum member declared as ``CODE = "code", "中文标签"``."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Category(StrEnum):
    """Dispute categories as the justice statistics count them (矛盾纠纷类型)."""

    MARRIAGE_FAMILY = "婚姻家庭"
    NEIGHBOUR = "邻里"
    HOUSING_HOMESTEAD = "房屋宅基地"
    CONTRACT = "合同"
    BUSINESS = "生产经营"
    DAMAGES = "损害赔偿"
    FOREST_LAND = "山林土地"
    LAND_REQUISITION = "征地拆迁"
    POLLUTION = "环境污染"
    LABOUR = "劳动争议"  # includes 欠薪 wage arrears
    CONSUMER = "消费"
    MEDICAL = "医疗"
    TRAFFIC = "交通事故"
    PROPERTY_MANAGEMENT = "物业"
    OTHER = "其他"


class Source(Labelled):
    """Where the dispute came through the one door (统一受理)."""

    WINDOW = "window", "窗口"
    HOTLINE = "hotline", "热线"
    ONLINE = "online", "网上"
    REFERRAL = "referral", "下级移交"
    POLICE = "police", "警情流转"


class RiskGrade(Labelled):
    """红黄蓝 risk grade."""

    RED = "red", "红"
    YELLOW = "yellow", "黄"
    BLUE = "blue", "蓝"


class Level(Labelled):
    """Levels of the governance centers, bottom up (分层递进)."""

    VILLAGE = "village", "村/社区"
    TOWNSHIP = "township", "乡镇/街道"
    COUNTY = "county", "县/区"
    CITY = "city", "市"


class UnitMode(Labelled):
    """How a unit sits in the center."""

    RESIDENT = "resident", "常驻"
    ROTATING = "rotating", "轮驻"
    STATIONED = "stationed", "进驻"


class VulnerableGroup(Labelled):
    MIGRANT_WORKER_WAGES = "migrant_worker_wages", "农民工欠薪"
    ELDERLY = "elderly", "老年人"
    MINOR = "minor", "未成年人"
    DISABLED = "disabled", "残疾人"


class Stage(Labelled):
    """Where a case is in its process; also the CaseStage search attribute."""

    RECEIVED = "received", "已受理"
    TRIAGED = "triaged", "已研判分流"
    DISPATCHED = "dispatched", "已派单待响应"
    RESPONDED = "responded", "已响应待反馈"
    FED_BACK = "fed_back", "已反馈"
    CLOSED = "closed", "已办结"


class ClockName(Labelled):
    RESPONSE = "response", "响应时限"
    FEEDBACK = "feedback", "反馈时限"


class ClockStatus(Labelled):
    RUNNING = "running", "计时中"
    MET = "met", "按时完成"
    BREACHED = "breached", "已超时"
    MET_LATE = "met_late", "超时后完成"
