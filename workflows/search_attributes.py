"""Custom search attributes supervisors filter on in the Temporal UI. None carries personal data."""

from temporalio.common import SearchAttributeKey

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
RISK_GRADE = SearchAttributeKey.for_keyword("RiskGrade")
CASE_LEVEL = SearchAttributeKey.for_keyword("CaseLevel")
LEAD_UNIT = SearchAttributeKey.for_keyword("LeadUnit")
JURISDICTION = SearchAttributeKey.for_keyword("Jurisdiction")
TOWNSHIP = SearchAttributeKey.for_keyword("Township")
CATEGORY = SearchAttributeKey.for_keyword("DisputeCategory")
SOURCE = SearchAttributeKey.for_keyword("CaseSource")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
ESCALATION_COUNT = SearchAttributeKey.for_int("EscalationCount")
REVISION = SearchAttributeKey.for_int("OnedoorRevision")  # the case's revision (domain/revisions.py): when old code may go

ALL = [CASE_STAGE, RISK_GRADE, CASE_LEVEL, LEAD_UNIT, JURISDICTION, TOWNSHIP, CATEGORY, SOURCE, NEXT_DEADLINE, OVERDUE, ESCALATION_COUNT, REVISION]
