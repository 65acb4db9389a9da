"""Bilingual labels for alerts (zh first, en second)."""

from __future__ import annotations

CATEGORY_LABELS = {
    "suicide": ("自杀风险", "suicide"),
    "self_harm": ("自伤", "self-harm"),
    "abuse": ("虐待", "abuse"),
    "sexual_abuse": ("性侵害", "sexual abuse"),
    "neglect": ("忽视/无人照料", "neglect"),
    "bullying": ("欺凌/勒索", "bullying"),
    "danger": ("紧急危险", "immediate danger"),
    "runaway": ("离家出走", "running away"),
    # guardian concerns (bot/guardian/concerns.py)
    "concern": ("监护人关注", "guardian concern"),
    "guardian_support": ("监护人求助", "guardian asks for support"),
}
SEVERITY_LABELS = {
    "imminent": ("紧急（正在发生）", "imminent"),
    "high": ("高", "high"),
    "medium": ("中", "medium"),
}
HEADERS = {
    "alert": ("🚨 风险警报", "Risk alert"),
    "upgrade": ("🚨 风险升级：情况更严重了", "Risk raised: the situation is more serious"),
    "renotify": ("⏰ 再次提醒：个案尚未确认", "Reminder: not acknowledged yet"),
    "escalate": ("⚠️ 升级：负责社工尚未确认", "Escalated: not acknowledged by the assigned worker"),
    "watch": ("📝 关注提醒（低优先级）", "Watch note (low priority)"),
}
CONCERN_HEADER = ("📣 监护人关注", "Guardian concern")
MANDATORY = ("依据强制报告制度，请向公安机关报告", "Mandatory reporting applies: report to police")
POSSIBLE_DUPLICATE = (
    "（可能重复：上次发送被中断）",
    "(possible duplicate: the last send was interrupted)",
)
ACK_BUTTON = "✅ 确认接手 / Acknowledge"
OPEN_BUTTON = "打开个案 / Open case"


def _safety_category(key: str) -> tuple[str, str] | None:
    """The safety engineer's names (bot.safety.categories), so console and alerts agree."""
    try:
        from bot.safety.categories import CATEGORY_INFO
    except Exception:  # noqa: BLE001 - alerts must render even if that package breaks
        return None
    info = CATEGORY_INFO.get(key)
    return (info.zh, info.en) if info else None


def label(table: dict[str, tuple[str, str]], key: str | None) -> str:
    if not key:
        return "未知 / unknown"
    shared = _safety_category(key) if table is CATEGORY_LABELS else None
    zh, en = shared or table.get(key, (key, key))
    return f"{zh} ({en})"


def bilingual(pair: tuple[str, str], lang: str = "zh") -> str:
    zh, en = pair
    return f"{en} / {zh}" if lang == "en" else f"{zh} / {en}"
