"""Routing (归口导入、精准分流): which level handles a case and which units it goes to.

The escalation ladder (分层递进) is village → township → county → city.
"""

from collections.abc import Iterable, Mapping

from pydantic import BaseModel

from onedoor.domain.labels import Category, Level, RiskGrade

LADDER = (Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY, Level.CITY)

# Blue is handled where it arose, yellow by the township, red by the county (应急处置).
LEVEL_BY_GRADE = {RiskGrade.BLUE: Level.VILLAGE, RiskGrade.YELLOW: Level.TOWNSHIP, RiskGrade.RED: Level.COUNTY}


class DutyEntry(BaseModel):
    """One line of a center's duty list (职责清单): this unit owns this category there."""

    jurisdiction_code: str
    category: Category
    unit_code: str
    lead: bool = True


class Route(BaseModel):
    level: Level
    jurisdiction_code: str
    lead_unit: str
    co_units: list[str] = []
    rotas: dict[str, list[int]] = {}  # 轮驻: the rotating units' duty weekdays (ISO, domain/rota.py); set by the directory read


def level_above(level: Level) -> Level | None:
    index = LADDER.index(level)
    return LADDER[index + 1] if index + 1 < len(LADDER) else None


def next_center(level: Level, centers: Mapping[Level, str]) -> Level | None:
    """The next level up the ladder that has a center; None at the top."""
    above = level_above(level)
    while above is not None and above not in centers:
        above = level_above(above)
    return above


def centers_from(level: Level, centers: Mapping[Level, str], above_only: bool = False) -> list[str]:
    """The codes of the centers at (unless `above_only`) and above a level of the ladder: who may supervise it."""
    start = LADDER.index(level) + (1 if above_only else 0)
    return [centers[step] for step in LADDER[start:] if step in centers]


def handling_level(grade: RiskGrade, centers: Mapping[Level, str]) -> Level:
    """The grade's level, or the next one up that has a center (a village may have none)."""
    level: Level | None = LEVEL_BY_GRADE[grade]
    while level is not None and level not in centers:
        level = level_above(level)
    if level is None:
        raise LookupError(f"no center at or above {LEVEL_BY_GRADE[grade].label} for this place")
    return level


def route(duties: Iterable[DutyEntry], level: Level, jurisdiction_code: str, category: Category) -> Route:
    """Units on the center's duty list for the category, falling back to its 其他 line."""
    here = [d for d in duties if d.jurisdiction_code == jurisdiction_code]
    for wanted in (category, Category.OTHER):
        lines = [d for d in here if d.category == wanted]
        leads = [d.unit_code for d in lines if d.lead]
        if leads:
            return Route(
                level=level,
                jurisdiction_code=jurisdiction_code,
                lead_unit=leads[0],
                co_units=[d.unit_code for d in lines if not d.lead],
            )
    raise LookupError(f"duty list of {jurisdiction_code} names no lead unit for {category} nor 其他")
