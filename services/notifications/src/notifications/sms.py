"""How many SMS segments a text costs, and in which encoding it travels (3GPP TS 23.038).

Pure functions: the notification core uses them to record segments and to keep message templates
affordable. The Azerbaijani ə, ğ, ş, the dotless i and the lower-case ç are not in the GSM 7-bit
alphabet, so almost every Azerbaijani or Russian text travels as UCS-2: 70 letters, not 160.
"""

from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

# The GSM 7-bit default alphabet without its escape code (0x1B). Only the upper-case Ç is in it.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these is sent as escape + code, so it costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Units (septets or UTF-16 code units) in one segment: alone, and inside a concatenated message,
# where the user data header takes 7 octets (6 + padding for GSM-7).
_LIMITS: dict[Encoding, tuple[int, int]] = {"gsm7": (160, 153), "ucs2": (70, 67)}


GSM7 = GSM7_BASIC | GSM7_EXTENSION
# The highest code point that is one UTF-16 code unit (the Basic Multilingual Plane).
_BMP_LAST = "\uffff"


def encoding(text: str) -> Encoding:
    """'gsm7' when every character is in the GSM 7-bit alphabet or its extension, else 'ucs2'."""
    return "gsm7" if GSM7.issuperset(text) else "ucs2"


def _cost(ch: str, enc: Encoding) -> int:
    if enc == "gsm7":
        return 2 if ch in GSM7_EXTENSION else 1
    # Outside the Basic Multilingual Plane a character is a surrogate pair: two code units.
    return len(ch.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """Segments the text is sent in; an empty text still costs one.

    A character is never split between two segments (neither an escape sequence nor a surrogate
    pair), as handsets could not reassemble it; so a boundary can cost a unit more than the plain
    division suggests. Most texts have no such character (every one costs a unit), and their
    count is a division; the dispatcher counts every SMS it sends.
    """
    enc = encoding(text)
    single, concatenated = _LIMITS[enc]
    if enc == "gsm7":
        uniform = GSM7_EXTENSION.isdisjoint(text)
    else:
        uniform = not text or max(text) <= _BMP_LAST
    if uniform:
        return 1 if len(text) <= single else -(-len(text) // concatenated)
    costs = [_cost(ch, enc) for ch in text]
    if sum(costs) <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > concatenated:
            count, used = count + 1, 0
        used += cost
    return count
