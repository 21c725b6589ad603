"""Enumerations whose values are stable codes and whose labels are what operators read (Chinese)."""

from enum import StrEnum
from typing import TYPE_CHECKING, Self


class Labelled(StrEnum):
    """A StrEnum member declared as ``CODE = "code", "中文标签"``; ``Kind("code")`` looks a member up by its code."""

    label: str

    if TYPE_CHECKING:  # what a type checker sees of a call: the lookup by code (a member's label is checked when the class is built)
        def __new__(cls, value: str) -> Self: ...
    else:
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


class PartyRole(Labelled):
    """A party's place in the dispute (Party.role)."""

    APPLICANT = "applicant", "申请人"
    RESPONDENT = "respondent", "被申请人"
    OTHER = "other", "其他当事人"


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
    """弱势群体 among the parties: grading weighs them (农民工欠薪 makes a case at least yellow)."""

    MIGRANT_WORKER_WAGES = "migrant_worker_wages", "农民工欠薪"
    ELDERLY = "elderly", "老年人"
    MINOR = "minor", "未成年人"
    DISABLED = "disabled", "残疾人"


class Stage(Labelled):
    """Where a case is in its process; also the CaseStage search attribute."""

    RECEIVED = "received", "已受理"
    TRIAGED = "triaged", "已研判分流"
    DISPATCHED = "dispatched", "已派单待响应"
    HANDLING = "handling", "办理调解中"
    CONFIRMATION = "confirmation", "司法确认中"
    REFERRAL = "referral", "司法兜底转介中"
    CLOSED = "closed", "已办结待回访"
    SETTLED = "settled", "案结事了"

    @property
    def is_open(self) -> bool:
        """Still being handled: not closed (结案) nor settled (案结事了). A reopened case is open again."""
        return self not in (Stage.CLOSED, Stage.SETTLED)


class ClockName(Labelled):
    RESPONSE = "response", "响应时限"
    FEEDBACK = "feedback", "反馈时限"
    MEDIATION = "mediation", "调解期限"
    CONFIRMATION = "confirmation", "司法确认申请期限"
    REFERRAL = "referral", "转介受理时限"
    RETURN_VISIT = "return_visit", "回访"
    PARTNER_REPLY = "partner_reply", "跨省协作回复时限"


class ClockStatus(Labelled):
    RUNNING = "running", "计时中"
    PAUSED = "paused", "已暂停"
    MET = "met", "按时完成"
    BREACHED = "breached", "已超时"
    MET_LATE = "met_late", "超时后完成"
    ENDED = "ended", "随案结束"


class ClockBasis(Labelled):
    NATURAL = "natural", "自然时间"
    WORKING = "working", "工作时间"  # office hours, counted to the minute
    WORKING_DAYS = "working_days", "工作日"  # to the close of office hours on the Nth working day (domain/calendar.py)
    MONTHS = "months", "自然月"  # to the same date N months on (民法典 §202)


class HandlingMode(Labelled):
    DESK = "desk", "坐诊"
    PATROL = "patrol", "巡诊"
    OUTREACH = "outreach", "出诊"


class MediationOutcome(Labelled):
    AGREEMENT = "agreement", "达成调解协议"
    FAILED = "failed", "调解不成"
    REFUSED = "refused", "当事人拒绝调解"  # 人民调解法 §17: a party may refuse; mediation ends
    WITHDRAWN = "withdrawn", "申请人撤回"


class Backstop(Labelled):
    """司法兜底: where a dispute goes when mediation cannot settle it."""

    ARBITRATION = "arbitration", "劳动人事争议仲裁"
    LITIGATION = "litigation", "诉讼服务（诉调对接）"
    LEGAL_AID = "legal_aid", "法律援助"
    NOTARY = "notary", "公证"


class Result(Labelled):
    """结案方式: the result code a closure needs."""

    MEDIATED = "mediated", "调解成功"
    CONFIRMED = "confirmed", "调解协议经司法确认"
    ARBITRATION = "arbitration", "转劳动人事争议仲裁"
    LITIGATION = "litigation", "转诉讼"
    LEGAL_AID = "legal_aid", "转法律援助"
    NOTARY = "notary", "转公证"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    WITHDRAWN = "withdrawn", "撤回"


class Role(Labelled):
    """Who signs in to the API, and what each may do (docs/security.md)."""

    OPERATOR = "operator", "受理员"  # registers and triages cases, pauses clocks, records visits
    UNIT = "unit", "承办单位"  # staff (or the system) of one unit: answers that unit's dispatches
    MEDIATOR = "mediator", "调解员"  # mediates the cases assigned to them
    SUPERVISOR = "supervisor", "督办"  # reads everything in their jurisdiction, extends, acknowledges alerts
    ADMIN = "admin", "管理员"  # the directory and the users; may act in any role


class ActorRole(Labelled):
    """The part someone acted in on a case: the audit's role (a signed-in user's Role is beside it)."""

    OPERATOR = "operator", "受理员"
    UNIT = "unit", "承办单位"
    MEDIATOR = "mediator", "调解员"
    SUPERVISOR = "supervisor", "督办人员"
    LEADER = "leader", "值班领导"
    COURT = "court", "人民法院"
    BODY = "body", "司法兜底机构"
    PARTNER = "partner", "跨省协作中心"
    POLICE = "police", "公安警情平台"
    PARTY = "party", "当事人"
    VISITOR = "visitor", "回访员"
    SYSTEM = "system", "系统"


class CaseField(Labelled):
    """The case's fields an audit entry shows before and after a change (and a breach's clock)."""

    STAGE = "stage", "阶段"
    GRADE = "grade", "等级"
    LEVEL = "level", "办理层级"
    JURISDICTION = "jurisdiction_code", "办理中心"
    LEAD_UNIT = "lead_unit", "牵头单位"
    MEDIATOR = "mediator_id", "调解员"
    RESULT = "result", "结案方式"
    OVERDUE = "overdue", "逾期"
    PAUSED = "paused", "暂停计时"
    SATISFIED = "satisfied", "回访意见"
    CATEGORY = "category", "纠纷类型"
    CLOCK = "clock", "时限"
    UNIT = "unit_code", "单位"
    STATUS = "status", "时限状态"


class UnitKind(Labelled):
    """What a unit in the directory is: all are reached through the same gateway."""

    DEPARTMENT = "department", "职能部门"
    INDUSTRY = "industry", "行业部门"  # horizontal links: labour, housing, market regulation ... of the city
    BACKSTOP = "backstop", "司法兜底机构"
    POLICE = "police", "公安警情平台"
    PARTNER = "partner", "跨省协作中心"


class Channel(Labelled):
    """How a unit receives its documents."""

    WEBHOOK = "webhook", "系统对接"  # signed HTTPS POST to the unit's own system
    INBOX = "inbox", "收件箱"  # no system: staff see and answer their worklist through the API


class PoliceStatus(Labelled):
    """警情流转: what the police platform is told about a case it transferred."""

    RECEIVED = "received", "已受理"
    DISPATCHED = "dispatched", "已派单"
    RESOLVED = "resolved", "已化解"
    REFERRED = "referred", "已转司法程序"
    NOT_ACCEPTED = "not_accepted", "不予受理"


class Audience(Labelled):
    """Who a notification is for."""

    PARTY = "party", "当事人"
    UNIT = "unit", "承办单位"
    LEADER = "leader", "领导"
    OPERATOR = "operator", "受理员"


class StepKind(Labelled):
    """What a step of a case's timeline records: the register's step kind, and how the Temporal UI names the
    step (summaries and current details carry this label, never the step's note, which may hold a person's words)."""

    RECEIVED = "received", "受理登记"
    TRIAGED = "triaged", "研判分流"
    DISPATCHED = "dispatched", "一键派单"
    HANDLING = "handling", "承办单位响应，进入办理"
    CONFIRMATION = "confirmation", "进入司法确认申请期"
    REFERRAL = "referral", "转介司法兜底"
    CLOSED = "closed", "结案"
    SETTLED = "settled", "案结事了"
    HOUSEHOLD = "household", "纳入家庭和谐服务档案"
    DELIVERED = "delivered", "系统投递失败"
    FALLBACK = "fallback", "转入收件箱"
    MEDIATOR = "mediator", "指派调解员"
    ESCALATED = "escalated", "升级办理"
    PARTNER = "partner", "跨省协作"
    POLICE = "police", "警情回传"
    RESPONDED = "responded", "单位响应"
    FED_BACK = "fed_back", "单位反馈"
    GRADED = "graded", "调整等级"
    PAUSED = "paused", "暂停计时"
    RESUMED = "resumed", "恢复计时"
    EXTENDED = "extended", "延长时限"
    SESSION = "session", "调解记录"
    MEDIATION = "mediation", "调解结果"
    DECLINED = "declined", "不予受理"
    ALERT_ACK = "alert_ack", "确认红色预警"
    REFERRAL_ACCEPTED = "referral_accepted", "兜底机构受理"
    CONFIRMATION_APPLIED = "confirmation_applied", "申请司法确认"
    COURT_DECISION = "court_decision", "司法确认裁定"
    VISIT = "visit", "回访"
    PARTNER_REPLY = "partner_reply", "协作中心回复"
    SUPERVISED = "supervised", "上级督办"
    HANDED_OVER = "handed_over", "交办下级"
    HANDOVER = "handover", "决定交办"
    LIFTED = "lifted", "决定提级"
    INCIDENT_LINKED = "incident_linked", "关联警情"
    VISIT_JOINED = "visit_joined", "重复来访并案"
    REOPENED = "reopened", "重新办理"
    RECALENDARED = "recalendared", "工作日历更新"
    BREACH = "breach", "超时"
    REGRADED = "regraded", "重新定级"


class NoticeKind(Labelled):
    """What a notification is about (Notice.kind): the channels send the code, the Temporal UI shows the label."""

    RECEIVED = "received", "受理回执"
    DISPATCHED = "dispatched", "派单告知"
    CLOSED = "closed", "结案告知"
    FALLBACK = "fallback", "转入收件箱"
    PARTNER = "partner", "跨省协作"
    REJECTED = "rejected", "警情平台拒收"
    ALERT = "alert", "红色预警"
    REMINDER = "reminder", "催办"
    BREACH = "breach", "超时督办"
    LAPSE = "lapse", "期限届满"
    SUPERVISION = "supervision", "上级督办"
    VISIT_REMINDER = "visit_reminder", "走访提醒"
    RESUMED = "resumed", "恢复办理"


class LevelEndKind(Labelled):
    """What ends a case's handling at a level: the workflow's process acts on it (a result, one level up,
    down, or the judicial backstop). Never stored: the step that ends the level records its own StepKind."""

    AGREEMENT = "agreement", "达成调解协议"
    FAILED = "failed", "调解不成"
    REFUSED = "refused", "当事人拒绝调解"
    WITHDRAWN = "withdrawn", "申请人撤回"
    BREACH = "breach", "超时升级"
    REGRADED = "regraded", "等级升高改由上级办理"
    LIFTED = "lifted", "提级"
    DECLINED = "declined", "不予受理"
    HANDOVER = "handover", "交办下级"
