"""便民服务: a case's progress as a citizen reads it — where it is, in plain words, and what comes next.

Stage labels (domain.labels.Stage) are the center's words; these are said to the public, and say
nothing of the case but its stage.
"""

from onedoor.domain.labels import Stage

# 人民调解法 §33: the parties apply for judicial confirmation together within 30 days of the agreement.
PROGRESS: dict[Stage, tuple[str, str]] = {
    Stage.RECEIVED: ("已登记受理", "中心正在研判，将确定由哪个单位承办。"),
    Stage.TRIAGED: ("已研判分流", "即将派给承办单位办理。"),
    Stage.DISPATCHED: ("已派给承办单位，等待单位接单", "承办单位接单后将与您联系，开始办理。"),
    Stage.HANDLING: ("正在办理、调解中", "承办单位或调解员将组织调解，办理结果会告知您。"),
    Stage.CONFIRMATION: ("已达成调解协议，可申请司法确认", "双方可自协议生效起 30 日内共同向人民法院申请司法确认。"),
    Stage.REFERRAL: ("已转仲裁、诉讼、法律援助或公证等途径", "接收机构受理后会与您联系，请留意通知。"),
    Stage.CLOSED: ("已办结", "中心将对您进行回访，听取您对办理结果的意见。"),
    Stage.SETTLED: ("已全部办结（案结事了）", "本案已办结，无需再办。如有新的问题，可到中心窗口或拨打热线反映。"),
}


def progress_words(stage: Stage) -> tuple[str, str]:
    """Where the case is and what comes next, in plain Chinese."""
    return PROGRESS[stage]
