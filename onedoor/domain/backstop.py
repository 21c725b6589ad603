"""司法兜底: which body takes a dispute that mediation could not settle."""

from onedoor.domain.labels import Backstop, Category


def choose_backstop(category: Category, legal_aid_eligible: bool) -> Backstop:
    if category == Category.LABOUR:
        # 劳动争议调解仲裁法 §5: a labour dispute goes to arbitration before any lawsuit.
        return Backstop.ARBITRATION
    if legal_aid_eligible:
        return Backstop.LEGAL_AID  # 法律援助法 §31: parties with financial hardship
    return Backstop.LITIGATION  # 诉调对接: the court's litigation service
