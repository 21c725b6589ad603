"""The CJK font the weekly report's charts write Chinese in, registered with matplotlib from its file.

matplotlib knows the system's fonts through a cache it builds once per user and does not rebuild
when a font is installed afterwards (fonts-noto-cjk put on a server after the first chart): the
charts would stay in English for good. So the font is registered from its file at every start:
the one ONEDOOR_CJK_FONT names, else the first found where Debian and Ubuntu install them.
"""

from functools import cache
from pathlib import Path
from threading import Lock

import structlog
from matplotlib import font_manager

log = structlog.get_logger("reports")

KNOWN_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # fonts-noto-cjk, the one README asks for
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei, which older servers have
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
)
registering = Lock()  # activities draw on several threads: the font is registered, or missed, once


def cjk_font(configured: Path | None = None) -> str | None:
    """The font family to write Chinese in: the file `configured` names, or the first known one.
    None when there is none (a warning, logged once): the charts are then in English."""
    with registering:
        return registered(configured)


@cache
def registered(configured: Path | None) -> str | None:
    candidates = [configured] if configured else list(KNOWN_FILES)
    for path in candidates:
        if path.is_file():
            try:
                font_manager.fontManager.addfont(path.absolute())
                return simplified_chinese_face(path.absolute())
            except RuntimeError as unreadable:  # FreeType's word for a file that is no font
                log.warning("not a font file", path=str(path), error=str(unreadable))
    log.warning(
        "no CJK font: the weekly report's charts are in English (apt-get install fonts-noto-cjk, or name a font file in ONEDOOR_CJK_FONT)",
        looked_in=[str(path) for path in candidates],
    )
    return None


def simplified_chinese_face(path: Path) -> str:
    """A collection (.ttc) holds a face per language (Noto Sans CJK JP, KR, SC, TC, HK): SC writes
    汉字 as the mainland does. A single font has one face, its own."""
    faces = [entry.name for entry in font_manager.fontManager.ttflist if entry.fname == str(path)]
    return next((name for name in faces if name.endswith(" SC") and " Mono " not in name), faces[0])
