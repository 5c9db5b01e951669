"""Formats: one check per format OpenAPI names, right per its RFC and the JSON Schema Test Suite.

Each `_fmt_<name>(v)` answers True when v is valid; a value of another type passes (a string
format says nothing about a number). The checks always run: no optional package changes them
(jsonschema checks some formats only when one is installed). Standard library only, and this
file is pasted into every generated checker module after helpers.py, so: no imports of other
modules of the project, nothing costly at import (unicodedata, ipaddress, re2 are imported by
the checks that need them), names that never clash with helpers.py's. Every check is plain
code, linear in the value (or bounded: host names are measured first); no regex runs on client
input here. docs/guide.md#formats lists what each format accepts.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: the checkers do without it
if TYPE_CHECKING:
    from typing import Any, List, Tuple

_F_DIGITS = "0123456789"
_F_HEX = "0123456789abcdefABCDEF"
_F_ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_F_LDH = _F_ALPHA + _F_DIGITS + "-"


def _ascii_digits(text: str) -> bool:
    # str.isdigit alone accepts '৪' (a Bengali 4): formats want ASCII digits
    return text.isascii() and text.isdigit()


def _only(text: str, allowed: str) -> bool:
    # every character of text is in allowed: str.strip removes them from both ends and stops
    # at the first other one (one pass in C, where a loop over characters is slow)
    return not text.strip(allowed)


# -- dates and times (RFC 3339 section 5.6; T and Z in either case, its NOTE) ---------------------
_F_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _f_full_date(text: str) -> bool:
    # YYYY-MM-DD, a real day. Year 0000 fits RFC 3339's grammar but no Python date (the models
    # turn date values into datetime.date): refused.
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return False
    year, month, day = text[:4], text[5:7], text[8:]
    if not _ascii_digits(year + month + day) or year == "0000" or not "01" <= month <= "12":
        return False
    if "01" <= day <= "28":  # a day of every month: no arithmetic
        return True
    y, m, d = int(year), int(month), int(day)
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return 1 <= d <= _F_DAYS_IN_MONTH[m] + (m == 2 and leap)


def _f_full_time(text: str) -> bool:
    # HH:MM:SS[.frac](Z|+HH:MM|-HH:MM); second 60 only when it is 23:59:60 in UTC (a leap
    # second). Two ASCII digits compare as strings as they do as numbers: int() only for 60.
    if len(text) < 9 or text[2] != ":" or text[5] != ":":
        return False
    hh, mm, ss, rest = text[:2], text[3:5], text[6:8], text[8:]
    if not _ascii_digits(hh + mm + ss) or hh > "23" or mm > "59" or ss > "60":
        return False
    if rest[:1] == ".":
        fraction = rest[1:].lstrip(_F_DIGITS)
        if len(fraction) == len(rest) - 1:
            return False
        rest = fraction
    if rest in ("Z", "z"):
        offset = "+00:00"
    elif (len(rest) == 6 and rest[0] in "+-" and rest[3] == ":"
          and _ascii_digits(rest[1:3] + rest[4:]) and rest[1:3] <= "23" and rest[4:] <= "59"):
        offset = rest
    else:
        return False
    if ss < "60":
        return True
    minutes = int(hh) * 60 + int(mm) - int(offset[0] + "1") * (
        int(offset[1:3]) * 60 + int(offset[4:]))
    return minutes % 1440 == 23 * 60 + 59


def _fmt_date(v: Any) -> bool:
    return not isinstance(v, str) or _f_full_date(v)


def _fmt_date_time(v: Any) -> bool:
    if not isinstance(v, str):
        return True
    return len(v) > 11 and v[10] in "Tt" and _f_full_date(v[:10]) and _f_full_time(v[11:])


def _fmt_time(v: Any) -> bool:
    return not isinstance(v, str) or _f_full_time(v)


def _fmt_duration(v: Any) -> bool:
    # RFC 3339 appendix A: P then (date [time] | time | weeks); date is D, M[D] or Y[M[D]] and
    # time T then H[M[S]], M[S] or S; each unit after ASCII digits. Letters in either case
    # (ABNF literals are case-insensitive).
    if not isinstance(v, str):
        return True
    if len(v) < 3 or not v.isascii() or v[0] not in "Pp":
        return False
    text, units, at = v.upper(), "", 1
    while at < len(text):
        if text[at] == "T":
            units += "T"
            at += 1
            continue
        end = at
        while end < len(text) and text[end] in _F_DIGITS:
            end += 1
        if end == at or end == len(text):
            return False
        units += text[end]
        at = end + 1
    if units == "W":
        return True
    date, timed, clock = units.partition("T")
    if date not in ("", "D", "M", "MD", "Y", "YM", "YMD"):
        return False
    if timed:
        return clock in ("H", "HM", "HMS", "M", "MS", "S")
    return date != ""


# -- host names (RFC 1123 section 2.1; IDNA 2008: RFC 5890-5893) ---------------------------------
def _f_ldh_label(label: str) -> bool:
    return (0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
            and _only(label, _F_LDH))


def _f_hostname(text: str) -> bool:
    # LDH labels of 1-63 characters, 253 in all; a label "xn--..." must be a valid A-label
    if not text or len(text) > 253 or not text.isascii():
        return False
    for label in text.split("."):
        if not _f_ldh_label(label):
            return False
        if label[2:4] == "--" and label[:2].lower() == "xn" and not _f_a_label(label):
            return False
    return True


def _fmt_hostname(v: Any) -> bool:
    return not isinstance(v, str) or _f_hostname(v)


def _f_a_label(label: str) -> bool:
    # RFC 5891 5.3-5.5: the punycode decodes to a valid U-label that encodes back to it
    label = label.lower()
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError, IndexError):
        return False
    if not decoded or decoded.isascii() or not _f_u_label(decoded):
        return False
    return "xn--" + decoded.encode("punycode").decode("ascii") == label


def _f_idn_hostname(text: str, dots_only: bool = False) -> bool:
    # The label separators of RFC 3490 3.1 (IDNA 2008 leaves them to the application); each
    # label LDH (and a valid A-label if "xn--"), or a U-label; 63 and 253 octets in A-label form
    if not text or len(text) > 253:  # a label's A-label form is never shorter
        return False
    if not dots_only:
        text = text.replace("\u3002", ".").replace("\uff0e", ".").replace("\uff61", ".")
    labels = text.split(".")
    total = len(labels) - 1
    for label in labels:
        if label.isascii():
            if not _f_ldh_label(label) or (
                    label[2:4] == "--" and (label[:2].lower() != "xn" or not _f_a_label(label))):
                return False
            total += len(label)
            continue
        if not _f_u_label(label):
            return False
        size = 4 + len(label.encode("punycode"))
        if size > 63:
            return False
        total += size
    return total <= 253 and _f_bidi_domain(labels)


def _fmt_idn_hostname(v: Any) -> bool:
    return not isinstance(v, str) or _f_idn_hostname(v)


# RFC 5892 section 2.6 (F): code points whose IDNA property is fixed by hand
_F_PVALID, _F_CONTEXTJ, _F_CONTEXTO, _F_DISALLOWED = 0, 1, 2, 3
_F_EXCEPTIONS = {
    0x00DF: 0, 0x03C2: 0, 0x06FD: 0, 0x06FE: 0, 0x0F0B: 0, 0x3007: 0,
    0x00B7: 2, 0x0375: 2, 0x05F3: 2, 0x05F4: 2, 0x30FB: 2,
    0x0640: 3, 0x07FA: 3, 0x302E: 3, 0x302F: 3, 0x3031: 3, 0x3032: 3, 0x3033: 3, 0x3034: 3,
    0x3035: 3, 0x303B: 3,
}
# Default_Ignorable_Code_Point (DerivedCoreProperties.txt): unicodedata does not have it
_F_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
                (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
                (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
                (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                (0xE0000, 0xE0FFF),
                # IgnorableBlocks (2.4) and OldHangulJamo (2.9), also DISALLOWED
                (0x20D0, 0x20FF), (0x1D100, 0x1D24F), (0x1100, 0x11FF), (0xA960, 0xA97F),
                (0xD7B0, 0xD7FF))


def _f_idna_property(c: str) -> int:
    # RFC 5892 section 3, in its order (BackwardCompatible is empty)
    import unicodedata

    cp = ord(c)
    if cp in _F_EXCEPTIONS:
        return _F_EXCEPTIONS[cp]
    if 0x0660 <= cp <= 0x0669 or 0x06F0 <= cp <= 0x06F9:
        return _F_CONTEXTO
    category = unicodedata.category(c)
    if category == "Cn":  # Unassigned
        return _F_DISALLOWED
    if c in _F_LDH and not c.isupper():
        return _F_PVALID
    if cp in (0x200C, 0x200D):
        return _F_CONTEXTJ
    if unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", c).casefold()) != c:
        return _F_DISALLOWED  # Unstable
    if (c.isspace() or 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE
            or any(low <= cp <= high for low, high in _F_IGNORABLE)):
        return _F_DISALLOWED
    if category in ("Ll", "Lu", "Lo", "Nd", "Lm", "Mn", "Mc"):  # LetterDigits
        return _F_PVALID
    return _F_DISALLOWED


def _f_u_label(label: str) -> bool:
    # RFC 5891 section 5.4: NFC, no "--" in 3-4, no hyphen at the ends, no leading combining
    # mark, every code point PVALID or a CONTEXTJ/CONTEXTO one whose rule holds
    import unicodedata

    if (not label or not unicodedata.is_normalized("NFC", label) or label[2:4] == "--"
            or label[0] == "-" or label[-1] == "-"
            or unicodedata.category(label[0]).startswith("M")):
        return False
    for at, c in enumerate(label):
        kind = _f_idna_property(c)
        if kind == _F_PVALID:
            continue
        if kind == _F_CONTEXTJ:
            if not _f_context_j(label, at):
                return False
        elif kind != _F_CONTEXTO or not _f_context_o(label, at):
            return False
    return True


def _f_context_j(label: str, at: int) -> bool:
    # RFC 5892 appendix A.1 and A.2: after a virama; for ZWNJ also between joining letters
    import unicodedata

    if at > 0 and unicodedata.combining(label[at - 1]) == 9:
        return True
    if label[at] != "\u200c":
        return False
    before = at - 1
    while before >= 0 and _f_joining(label[before]) == "T":
        before -= 1
    after = at + 1
    while after < len(label) and _f_joining(label[after]) == "T":
        after += 1
    return (before >= 0 and _f_joining(label[before]) in "LD"
            and after < len(label) and _f_joining(label[after]) in "RD")


# Joining_Type D (dual), L (left), R (right) of Unicode's ArabicShaping.txt (Unicode 16), as
# ranges of code points: unicodedata does not have it. T (transparent) is Mn, Me and Cf but for
# the few code points of _F_NOT_TRANSPARENT.
_F_JOINING = (
    ("D", ((0x620, 0x620), (0x626, 0x626), (0x628, 0x628), (0x62A, 0x62E), (0x633, 0x63F),
     (0x641, 0x647), (0x649, 0x64A), (0x66E, 0x66F), (0x678, 0x687), (0x69A, 0x6BF),
     (0x6C1, 0x6C2), (0x6CC, 0x6CC), (0x6CE, 0x6CE), (0x6D0, 0x6D1), (0x6FA, 0x6FC),
     (0x6FF, 0x6FF), (0x712, 0x714), (0x71A, 0x71D), (0x71F, 0x727), (0x729, 0x729),
     (0x72B, 0x72B), (0x72D, 0x72E), (0x74E, 0x758), (0x75C, 0x76A), (0x76D, 0x770),
     (0x772, 0x772), (0x775, 0x777), (0x77A, 0x77F), (0x7CA, 0x7EA), (0x841, 0x845),
     (0x848, 0x848), (0x84A, 0x853), (0x855, 0x855), (0x860, 0x860), (0x862, 0x865),
     (0x868, 0x868), (0x886, 0x886), (0x889, 0x88D), (0x88F, 0x88F), (0x8A0, 0x8A9),
     (0x8AF, 0x8B0), (0x8B3, 0x8B8), (0x8BA, 0x8C8), (0x1807, 0x1807), (0x1820, 0x1878),
     (0x1887, 0x18A8), (0x18AA, 0x18AA), (0xA840, 0xA871), (0x10AC0, 0x10AC4),
     (0x10AD3, 0x10AD6), (0x10AD8, 0x10ADC), (0x10ADE, 0x10AE0), (0x10AEB, 0x10AEE),
     (0x10B80, 0x10B80), (0x10B82, 0x10B82), (0x10B86, 0x10B88), (0x10B8A, 0x10B8B),
     (0x10B8D, 0x10B8D), (0x10B90, 0x10B90), (0x10BAD, 0x10BAE), (0x10D01, 0x10D21),
     (0x10D23, 0x10D23), (0x10EC3, 0x10EC4), (0x10EC6, 0x10EC7), (0x10F30, 0x10F32),
     (0x10F34, 0x10F44), (0x10F51, 0x10F53), (0x10F70, 0x10F73), (0x10F76, 0x10F81),
     (0x10FB0, 0x10FB0), (0x10FB2, 0x10FB3), (0x10FB8, 0x10FB8), (0x10FBB, 0x10FBC),
     (0x10FBE, 0x10FBF), (0x10FC1, 0x10FC1), (0x10FC4, 0x10FC4), (0x10FCA, 0x10FCA),
     (0x1E900, 0x1E943))),
    ("L", ((0xA872, 0xA872), (0x10ACD, 0x10ACD), (0x10AD7, 0x10AD7), (0x10D00, 0x10D00),
     (0x10ED9, 0x10EEE), (0x10FCB, 0x10FCB))),
    ("R", ((0x622, 0x625), (0x627, 0x627), (0x629, 0x629), (0x62F, 0x632), (0x648, 0x648),
     (0x671, 0x673), (0x675, 0x677), (0x688, 0x699), (0x6C0, 0x6C0), (0x6C3, 0x6CB),
     (0x6CD, 0x6CD), (0x6CF, 0x6CF), (0x6D2, 0x6D3), (0x6D5, 0x6D5), (0x6EE, 0x6EF),
     (0x710, 0x710), (0x715, 0x719), (0x71E, 0x71E), (0x728, 0x728), (0x72A, 0x72A),
     (0x72C, 0x72C), (0x72F, 0x72F), (0x74D, 0x74D), (0x759, 0x75B), (0x76B, 0x76C),
     (0x771, 0x771), (0x773, 0x774), (0x778, 0x779), (0x840, 0x840), (0x846, 0x847),
     (0x849, 0x849), (0x854, 0x854), (0x856, 0x858), (0x867, 0x867), (0x869, 0x86A),
     (0x870, 0x882), (0x88E, 0x88E), (0x8AA, 0x8AC), (0x8AE, 0x8AE), (0x8B1, 0x8B2),
     (0x8B9, 0x8B9), (0x10AC5, 0x10AC5), (0x10AC7, 0x10AC7), (0x10AC9, 0x10ACA),
     (0x10ACE, 0x10AD2), (0x10ADD, 0x10ADD), (0x10AE1, 0x10AE1), (0x10AE4, 0x10AE4),
     (0x10AEF, 0x10AEF), (0x10B81, 0x10B81), (0x10B83, 0x10B85), (0x10B89, 0x10B89),
     (0x10B8C, 0x10B8C), (0x10B8E, 0x10B8F), (0x10B91, 0x10B91), (0x10BA9, 0x10BAC),
     (0x10D22, 0x10D22), (0x10EC2, 0x10EC2), (0x10F33, 0x10F33), (0x10F54, 0x10F54),
     (0x10F74, 0x10F75), (0x10FB4, 0x10FB6), (0x10FB9, 0x10FBA), (0x10FBD, 0x10FBD),
     (0x10FC2, 0x10FC3), (0x10FC9, 0x10FC9))),
)
_F_NOT_TRANSPARENT = frozenset((0x200C, 0x200D, 0x180E, 0x2066, 0x2067, 0x2068, 0x2069, 0x0600,
                                0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06DD, 0x0890, 0x0891,
                                0x08E2, 0x110BD, 0x110CD, 0x1171E))


def _f_joining(c: str) -> str:
    import unicodedata

    cp = ord(c)
    for kind, ranges in _F_JOINING:
        if any(low <= cp <= high for low, high in ranges):
            return kind
    if unicodedata.category(c) in ("Mn", "Me", "Cf") and cp not in _F_NOT_TRANSPARENT:
        return "T"
    return "U"


def _f_script_is(c: str, prefixes: Tuple[str, ...]) -> bool:
    # the Script property approximated by the character's name (unicodedata has no scripts)
    import unicodedata

    return unicodedata.name(c, "").startswith(prefixes)


def _f_context_o(label: str, at: int) -> bool:
    # RFC 5892 appendix A.3-A.9
    c = label[at]
    if c == "\u00b7":  # MIDDLE DOT: between two 'l'
        return 0 < at < len(label) - 1 and label[at - 1] == "l" and label[at + 1] == "l"
    if c == "\u0375":  # GREEK LOWER NUMERAL SIGN (KERAIA): a Greek character follows
        return at + 1 < len(label) and _f_script_is(label[at + 1], ("GREEK ",))
    if c in "\u05f3\u05f4":  # HEBREW GERESH, GERSHAYIM: after a Hebrew character
        return at > 0 and _f_script_is(label[at - 1], ("HEBREW ",))
    if c == "\u30fb":  # KATAKANA MIDDLE DOT: some Hiragana, Katakana or Han in the label
        return any(other != "\u30fb" and (
            0x3005 <= ord(other) <= 0x3007 or 0x3021 <= ord(other) <= 0x3029
            or 0x3038 <= ord(other) <= 0x303B
            or (_f_script_is(other, ("HIRAGANA ", "KATAKANA ", "CJK UNIFIED IDEOGRAPH",
                                     "CJK COMPATIBILITY IDEOGRAPH"))))
            for other in label)
    if "\u0660" <= c <= "\u0669":  # ARABIC-INDIC DIGITS: no extended ones in the label
        return not any("\u06f0" <= other <= "\u06f9" for other in label)
    if "\u06f0" <= c <= "\u06f9":
        return not any("\u0660" <= other <= "\u0669" for other in label)
    return False


_F_RTL_ALLOWED = frozenset(("R", "AL", "AN", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"))
_F_LTR_ALLOWED = frozenset(("L", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"))


def _f_bidi_domain(labels: List[str]) -> bool:
    # RFC 5893 section 2: in a domain name holding a right-to-left character, every label
    # satisfies the Bidi Rule
    import unicodedata

    classes = [[unicodedata.bidirectional(c) for c in label] for label in labels]
    if not any(kind in ("R", "AL", "AN") for label in classes for kind in label):
        return True
    for label in classes:
        ending = [kind for kind in label if kind != "NSM"]
        if label[0] in ("R", "AL"):
            if (not _F_RTL_ALLOWED.issuperset(label) or ending[-1] not in ("R", "AL", "EN", "AN")
                    or ("EN" in label and "AN" in label)):
                return False
        elif label[0] == "L":
            if not _F_LTR_ALLOWED.issuperset(label) or ending[-1] not in ("L", "EN"):
                return False
        else:
            return False
    return True


# -- e-mail addresses (RFC 5321 section 4.1.2, 4.1.3 and 4.5.3.1; RFC 6531 for idn-email) --------
_F_ATEXT = _F_ALPHA + _F_DIGITS + "!#$%&'*+-/=?^_`{|}~"


def _f_utf8(c: str) -> bool:
    # RFC 6531 UTF8-non-ascii: any non-ASCII character, a lone surrogate being none
    return c >= "\x80" and not "\ud800" <= c <= "\udfff"


def _f_email(text: str, idn: bool) -> bool:
    # Local-part "@" (Domain | address-literal); local part 64 octets at most, the whole 254
    if len(text) > 254:
        return False
    if text[:1] == '"':  # Quoted-string: printable ASCII but '"' and '\\', or a quoted pair
        at = 1
        while at < len(text) and text[at] != '"':
            c = text[at]
            if c == "\\":
                at += 1
                c = text[at:at + 1]
                if not c or not (" " <= c <= "~" or (idn and _f_utf8(c))):
                    return False
            elif not (" " <= c <= "~" or (idn and _f_utf8(c))):
                return False
            at += 1
        local, rest = text[:at + 1], text[at + 1:]
        if not rest.startswith("@"):
            return False
        domain = rest[1:]
    else:  # Dot-string: atoms of atext joined by single dots
        local, sign, domain = text.rpartition("@")
        if not sign or not local or local[0] == "." or local[-1] == "." or ".." in local:
            return False
        if not _only(local, _F_ATEXT + ".") and not (idn and all(
                c in _F_ATEXT or c == "." or _f_utf8(c) for c in local)):
            return False
    if len(local.encode("utf-8", "surrogatepass")) > 64 or len(
            text.encode("utf-8", "surrogatepass")) > 254:
        return False
    if domain[:1] == "[" and domain[-1:] == "]":
        literal = domain[1:-1]
        if literal[:5].lower() == "ipv6:":
            return _f_ipv6(literal[5:])
        return _f_ipv4(literal)  # no General-address-literal tag is registered but IPv6
    return _f_idn_hostname(domain, dots_only=True) if idn else _f_hostname(domain)


def _fmt_email(v: Any) -> bool:
    return not isinstance(v, str) or _f_email(v, False)


def _fmt_idn_email(v: Any) -> bool:
    return not isinstance(v, str) or _f_email(v, True)


# -- IP addresses (RFC 2673 section 3.2 dotted-quad; RFC 4291 section 2.2) -----------------------
def _f_ipv4(text: str) -> bool:
    # four decimal octets without leading zeros (ipaddress refuses those, and non-ASCII digits)
    import ipaddress

    if not text.isascii():
        return False
    try:
        ipaddress.IPv4Address(text)
    except ipaddress.AddressValueError:
        return False
    return True


def _f_ipv6(text: str) -> bool:
    import ipaddress

    if not text.isascii() or "%" in text:  # a zone id is no part of an address
        return False
    try:
        ipaddress.IPv6Address(text)
    except ipaddress.AddressValueError:
        return False
    return True


def _fmt_ipv4(v: Any) -> bool:
    return not isinstance(v, str) or _f_ipv4(v)


def _fmt_ipv6(v: Any) -> bool:
    return not isinstance(v, str) or _f_ipv6(v)


# -- URIs and IRIs (RFC 3986 section 3 and 4.1; RFC 3987 section 2.2) ----------------------------
_F_UNRESERVED = _F_ALPHA + _F_DIGITS + "-._~"
_F_SUB_DELIMS = "!$&'()*+,;="
_F_REG_NAME = _F_UNRESERVED + _F_SUB_DELIMS
_F_USERINFO = _F_UNRESERVED + _F_SUB_DELIMS + ":"
_F_PATH = _F_UNRESERVED + _F_SUB_DELIMS + ":@/"
_F_QUERY = _F_UNRESERVED + _F_SUB_DELIMS + ":@/?"
_F_SCHEME = _F_ALPHA + _F_DIGITS + "+-."


def _f_ucschar(c: str, private: bool) -> bool:
    # RFC 3987 ucschar, or iprivate where allowed (the query)
    cp = ord(c)
    if cp < 0xA0 or 0xD800 <= cp <= 0xDFFF or 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE:
        return False
    if 0xE000 <= cp <= 0xF8FF or cp >= 0xF0000:
        return private
    return not 0xE0000 <= cp <= 0xE0FFF


def _f_chars(text: str, allowed: str, iri: bool, private: bool = False) -> bool:
    # every character allowed, or a percent-encoded octet, or (in an IRI) a ucschar
    if not _only(text, allowed + "%") and not (iri and all(
            c in allowed or c == "%" or _f_ucschar(c, private) for c in text)):
        return False
    percent = text.find("%")
    while percent >= 0:
        pair = text[percent + 1:percent + 3]
        if len(pair) != 2 or not _only(pair, _F_HEX):
            return False
        percent = text.find("%", percent + 3)
    return True


def _f_authority(text: str, iri: bool) -> bool:
    # [ userinfo "@" ] host [ ":" port ]; host an IP-literal in brackets or a reg-name (which
    # an IPv4 address also is)
    userinfo, sign, host = text.rpartition("@")
    if sign and not _f_chars(userinfo, _F_USERINFO, iri):
        return False
    if host[:1] == "[":
        end = host.find("]")
        if end < 0 or not _f_ip_literal(host[1:end]):
            return False
        port = host[end + 1:]
        if port and port[0] != ":":
            return False
        port = port[1:]
    else:
        host, _, port = host.partition(":")
        if not _f_chars(host, _F_REG_NAME, iri):
            return False
    return port == "" or _ascii_digits(port)


def _f_ip_literal(text: str) -> bool:
    # IPv6address or IPvFuture ("v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ))
    if text[:1] in ("v", "V"):
        version, dot, rest = text[1:].partition(".")
        return bool(version and dot and rest and _only(version, _F_HEX)
                    and _only(rest, _F_USERINFO))
    return _f_ipv6(text)


def _f_uri(text: str, absolute: bool, iri: bool) -> bool:
    # URI (scheme ":" hier-part ["?" query] ["#" fragment]) or, unless absolute, a
    # relative-ref; the first segment of a relative path holds no ':' (path-noscheme), so a
    # ':' before any '/' always ends a scheme
    head, sign, fragment = text.partition("#")
    if sign and not _f_chars(fragment, _F_QUERY, iri):
        return False
    head, sign, query = head.partition("?")
    if sign and not _f_chars(query, _F_QUERY, iri, private=True):
        return False
    colon, slash = head.find(":"), head.find("/")
    if colon >= 0 and (slash < 0 or colon < slash):
        scheme, head = head[:colon], head[colon + 1:]
        if not scheme or scheme[0] not in _F_ALPHA or not _only(scheme, _F_SCHEME):
            return False
    elif absolute:
        return False
    if head.startswith("//"):
        end = head.find("/", 2)
        if end < 0:
            end = len(head)
        if not _f_authority(head[2:end], iri):
            return False
        head = head[end:]
    return _f_chars(head, _F_PATH, iri)


def _fmt_uri(v: Any) -> bool:
    return not isinstance(v, str) or _f_uri(v, True, False)


def _fmt_uri_reference(v: Any) -> bool:
    return not isinstance(v, str) or _f_uri(v, False, False)


def _fmt_iri(v: Any) -> bool:
    return not isinstance(v, str) or _f_uri(v, True, True)


def _fmt_iri_reference(v: Any) -> bool:
    return not isinstance(v, str) or _f_uri(v, False, True)


# -- URI templates (RFC 6570 section 2) -----------------------------------------------------------
_F_NOT_LITERAL = frozenset(' "%\'<>\\^`{|}')  # and controls; '%' only as a percent-encoding
_F_VARCHAR = _F_ALPHA + _F_DIGITS + "_"


def _f_varname(name: str) -> bool:
    # varchar *( ["."] varchar ), a varchar being ALPHA / DIGIT / "_" / pct-encoded
    if not name or name[0] == "." or name[-1] == "." or ".." in name:
        return False
    return _f_chars(name, _F_VARCHAR + ".", False)


def _f_expression(text: str) -> bool:
    # [ operator ] varspec *( "," varspec ); the reserved operators "=,!@|" are in the grammar
    if text[:1] and text[0] in "+#./;?&=,!@|":
        text = text[1:]
    for spec in text.split(","):
        name, colon, length = spec.partition(":")
        if colon:
            if not (1 <= len(length) <= 4 and _ascii_digits(length) and length[0] != "0"):
                return False
        elif name.endswith("*"):
            name = name[:-1]
        if not _f_varname(name):
            return False
    return True


def _fmt_uri_template(v: Any) -> bool:
    if not isinstance(v, str):
        return True
    at, size = 0, len(v)
    while at < size:
        c = v[at]
        if c == "{":
            end = v.find("}", at)
            if end < 0 or not _f_expression(v[at + 1:end]):
                return False
            at = end + 1
        elif c == "%":
            if len(v[at:at + 3]) != 3 or not _f_chars(v[at:at + 3], _F_HEX, False):
                return False
            at += 3
        elif c in _F_NOT_LITERAL or c <= " " or c == "\x7f" or (
                c >= "\x80" and not _f_ucschar(c, True)):
            return False
        else:
            at += 1
    return True


# -- JSON pointers (RFC 6901; draft-bhutton-relative-json-pointer-00) ----------------------------
def _f_json_pointer(text: str) -> bool:
    # "" or "/"-separated tokens where "~" is always followed by "0" or "1"
    if text and text[0] != "/":
        return False
    tilde = text.find("~")
    while tilde >= 0:
        if text[tilde + 1:tilde + 2] not in ("0", "1"):
            return False
        tilde = text.find("~", tilde + 2)
    return True


def _fmt_json_pointer(v: Any) -> bool:
    return not isinstance(v, str) or _f_json_pointer(v)


def _f_leading_integer(text: str) -> int:
    # the length of a non-negative-integer ("0" or no leading zero) at the start, 0 if none
    end = 0
    while end < len(text) and text[end] in _F_DIGITS:
        end += 1
    return 0 if end > 1 and text[0] == "0" else end


def _fmt_relative_json_pointer(v: Any) -> bool:
    # non-negative-integer [ ("+" / "-") positive-integer ] ( "#" / json-pointer )
    if not isinstance(v, str):
        return True
    end = _f_leading_integer(v)
    if not end:
        return False
    rest = v[end:]
    if rest[:1] in ("+", "-"):
        shift = _f_leading_integer(rest[1:])
        if not shift or rest[1] == "0":
            return False
        rest = rest[1 + shift:]
    return rest == "#" or _f_json_pointer(rest)


# -- the rest -------------------------------------------------------------------------------------
def _fmt_uuid(v: Any) -> bool:
    # RFC 4122 section 3: 8-4-4-4-12 hexadecimal digits, any version
    if not isinstance(v, str):
        return True
    return (len(v) == 36 and v[8] == v[13] == v[18] == v[23] == "-"
            and _only(v[:8] + v[9:13] + v[14:18] + v[19:23] + v[24:], _F_HEX))


def _f_ecma_for_re2(text: str) -> Any:
    """The regex with ECMA-262's \\uXXXX, \\u{X...} and \\cX escapes spelled as RE2 reads
    them, or None where ECMA-262 (with the u flag, as the test suite reads it) refuses what RE2
    would parse: escapes such as \\a \\z \\A \\Q \\E \\C, inline flags (?i), (?P<name>...).
    One pass, no regex."""
    out: List[str] = []
    at, in_class, size = 0, False, len(text)
    while at < size:
        c = text[at]
        if c == "\\":
            escaped = text[at + 1:at + 2]
            if escaped == "u":
                if text[at + 2:at + 3] == "{":
                    end = text.find("}", at + 3)
                    digits = text[at + 3:end] if end > 0 else ""
                    width = end + 1 - at
                else:
                    digits, width = text[at + 2:at + 6], 6
                    digits = digits if len(digits) == 4 else ""
                if not digits or not _only(digits, _F_HEX) or int(digits, 16) > 0x10FFFF:
                    return None
                out.append("\\x{" + digits + "}")
                at += width
                continue
            if escaped == "c":
                letter = text[at + 2:at + 3]
                if not letter or letter not in _F_ALPHA:
                    return None
                out.append("\\x{%x}" % (ord(letter) % 32))
                at += 3
                continue
            if escaped.isascii() and escaped.isalnum() and escaped not in "dDwWsSbBfnrtvxpPk0":
                return None
            out.append(text[at:at + 2])
            at += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and text[at + 1:at + 2] == "?" and text[at + 2:at + 3] not in (
                ":", "=", "!", "<"):
            return None
        out.append(c)
        at += 1
    return "".join(out)


def _fmt_regex(v: Any) -> bool:
    # an ECMA-262 regular expression that the engine spec patterns run on (RE2) can run. A
    # Set, not re2.compile: compiled client regexes would fill re2's cache (8 MiB each).
    if not isinstance(v, str):
        return True
    translated = _f_ecma_for_re2(v)
    if translated is None:
        return False
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        re2.Set.SearchSet(options).Add(translated)
    except (re2.error, UnicodeEncodeError):
        return False
    return True


def _fmt_byte(v: Any) -> bool:
    # OpenAPI 3.0 'byte': base64 (RFC 4648 section 4) with its padding, as text or bytes
    if not isinstance(v, (str, bytes)):
        return True
    import binascii
    from base64 import b64decode

    if isinstance(v, str) and not v.isascii():
        return False
    try:
        b64decode(v.encode("ascii") if isinstance(v, str) else v, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _fmt_int32(v: Any) -> bool:
    return not isinstance(v, int) or isinstance(v, bool) or ~(1 << 31) < v < 1 << 31


def _fmt_int64(v: Any) -> bool:
    return not isinstance(v, int) or isinstance(v, bool) or ~(1 << 63) < v < 1 << 63
