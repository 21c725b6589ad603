"""Decisions people make on a case; each arrives as a workflow update and is validated there."""

from typing import Annotated

from pydantic import Field, StringConstraints

from domain.case import Code, Strict, Text


class UnitResponse(Strict):
    """响应: the unit acknowledges the dispatch and names who handles it."""

    unit_code: Code
    handler: Annotated[Text, StringConstraints(max_length=64)] = Field(description="承办人")
    note: Annotated[Text, StringConstraints(max_length=2000)] | None = None


class UnitFeedback(Strict):
    """反馈: the unit reports how it handled the case."""

    unit_code: Code
    handler: Annotated[Text, StringConstraints(max_length=64)]
    summary: Annotated[Text, StringConstraints(max_length=4000)] = Field(description="处理情况")
