"""HTML parts to one plain-text representation (CHATHAM_HOUSE.md §2.4).

The archive keeps a single text form of every post (§2.4, "Recommendation").
When a post has no text/plain part, `html_to_text` renders its HTML part as
the text a reader saw, shaped like plain-text mail so that the text scrubber
(filters/text_scrub.py, §2.5) can apply its reply-structure rules:

* Quoted text carries "> " per level ("> > " when nested), whether the
  client quoted with <blockquote> (any, `type=cite` included), Gmail's
  div.gmail_quote, Yahoo's div.yahoo_quoted, or Outlook's habit of putting
  the earlier message after a header block without any quote element
  (#divRplyFwdMsg, the `border-top:solid` div of classic Outlook, Outlook for
  Mac's #OLK_SRC_BODY_SECTION, Thunderbird's forward header table, Zimbra's
  `__HEADERS__`): everything after such a header block, up to the end of the
  enclosing quote scope, is quoted one level deeper.
* A reply attribution line ("On … Alice … wrote:") stands on its own line
  directly before its quote, also when Apple Mail put it inside the
  blockquote. Header blocks are one field per line, after a blank line.
* Signature containers of the common clients are dropped with everything in
  them (their logos too). Where a client marks only where a signature starts
  (Outlook's `_MailAutoSig` bookmark) a "-- " delimiter line (RFC 3676 §4.3)
  is written and the scrubber cuts from there.
* Nothing invisible survives: <head>, <title>, <meta>, scripts, styles,
  comments (conditional comments and their <xml> islands too), elements
  hidden by inline or <style> CSS, text too small to read, and text coloured
  like its background (white on white).
* No resource URL survives: images are dropped with their alt text, and no
  src, srcset, CSS url() or <link> is ever read. A link is written
  "text <URL>" so that its target goes through scrubbing as text.
* NBSP is kept (French Outlook writes "De\u00a0:", which the header-block
  rules match), zero-width characters are kept (the matcher folds them),
  entities are decoded.

Decisions worth knowing:

* `aria-hidden="true"` content is KEPT. It hides content from screen readers
  only; sighted readers see it, so it is part of what was said, and the
  scrubber reads it like any other text.
* Outlook mobile and Apple Mail sometimes put the author's whole reply inside
  their signature container (#ms-outlook-mobile-signature,
  #AppleMailSignature: the id is copied onto every line typed below it).
  Those containers are dropped only while they are signature-sized (at most
  8 lines of at most 100 characters, 400 in all); longer ones are kept as
  text for the scrubber's own signature rules. A short reply typed into such
  a container is lost with it. Other clients' containers always go.
* Text whose element or ancestor sets `font-size:0` stays hidden unless a
  descendant sets an absolute size again (responsive layouts do that).
* Deeply nested documents are parsed whole: libxml2 stops at a depth of
  2048, so such input is first flattened below that depth (elements there
  with a style, class, id or similar attribute are dropped with their
  content, so hidden content cannot surface).

`html_to_text` never raises; it returns "" for input without visible text.
"""

from __future__ import annotations

import colorsys
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import unquote

from lxml import etree

# ---------------------------------------------------------------------------
# Element classes
# ---------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Dropped with everything inside. The first group occupies no space on a
# rendered page; the second is replaced content (an image, a frame, a form
# control) that stood between words, so it leaves a word break behind.
_SILENT_TAGS = _words(
    "head title meta link base basefont style script noscript template xml bgsound param datalist"
)
_REPLACED_TAGS = _words(
    "img image picture source track video audio canvas svg math iframe frame frameset "
    "object embed applet input select map area"
)
_BLOCK_TAGS = _words(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li listing "
    "main menu nav ol p plaintext pre section summary table caption tbody thead tfoot tr ul xmp "
    "option optgroup"
)
# Browser default vertical margins: these blocks are separated by a blank line.
_SPACED_TAGS = _words("p h1 h2 h3 h4 h5 h6 pre listing xmp dl figure blockquote ul ol menu")
_PREFORMATTED_TAGS = frozenset(("pre", "listing", "xmp", "plaintext", "textarea"))

# Signature containers, matched on class, id and name tokens after client
# prefixes are stripped (see _name). Any token containing "signature" counts:
# Gmail gmail_signature(_prefix), Thunderbird moz-signature, Outlook on the
# web #Signature / #x_Signature, Proton protonmail_signature_block*, Evolution
# -x-evo-signature(-wrapper), Samsung #composer_signature, Yahoo
# #ymail_android_signature, Spark [name=messageSignatureSection], and the
# "signature" classes of webmail systems.
_MOBILE_SIGNATURE_TOKENS = frozenset(
    (
        "applemailsignature",
        "ms-outlook-mobile-signature",
        "ms-outlook-ios-signature",
        "ms-outlook-android-signature",
    )
)
_SIGNATURE_TOKENS = _words(
    "_rc_sig moz-txt-sig zm-_id_-sgn"  # Roundcube, Thunderbird's display form, Zoho
)
_SIGNATURE_MARKERS = frozenset(("__sig_pre__", "__sig_post__"))  # Zimbra data-marker
# A signature is a few short lines; prose written into the container is not.
_MOBILE_SIGNATURE_MAX_LINES = 8
_MOBILE_SIGNATURE_MAX_CHARS = 400
_MOBILE_SIGNATURE_MAX_LINE = 100

# Client prefixes on class and id names: Outlook on the web "x_" (repeated
# per forward), Gmail "gmail-" and "m_-1234…", Yahoo "yiv1234…" and
# "ydp1a2b…", broken quoted-printable "3D".
_CLIENT_PREFIX = re.compile(r"^(?:x_|gmail-|m_-?\d+_?|yiv\d+|ydp[0-9a-f]{4,})+")
_QP_DEBRIS = re.compile(r"^3d[\\\"']+")  # id=3D"divRplyFwdMsg" decoded twice
_HEADER_ID = "divrplyfwdmsg"
_HEADER_LABEL = re.compile(
    r"^\s*[^\W\d_][^\W\d_.\-]{0,15}(?:[ \u00a0][^\W\d_]{1,15}){0,2}[ \u00a0]?:"
)
_BORDER_TOP_SOLID = re.compile(r"border-top\s*:[^;]*\bsolid\b", re.IGNORECASE)
_SEPARATOR_LINE = re.compile(r"^\s*[-_=*]{2,}.*[-_=*]{2,}\s*$")

_LINK_SCHEMES = _words("http https ftp ftps sftp ssh git irc ircs news nntp xmpp matrix sip sips")
_PHONE_SCHEMES = frozenset(("tel", "sms", "callto"))
_PHONE_NUMBER = re.compile(r"\+?[\d\s().\-/]{5,}")
_URL_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_UNSAFE = re.compile(r"[\x00-\x20<>\"\x7f]")

# Deeper quotes are written at this depth: no client nests that far, and a
# bound keeps the text linear in the input (1000 nested blockquotes around
# 100,000 lines would otherwise make 200 MB of "> ").
_MAX_QUOTE_DEPTH = 32
_MAX_LIST_INDENT = 8  # nested list levels shown by indentation
# Look-ahead for structure is bounded: a header block's label is within its
# first few elements, and #appendonsend is a few elements above its header.
_LOOKAHEAD_ELEMENTS = 64
_LOOKAHEAD_BUDGET = 10_000
# Pattern heuristics read no more of a line or a style than this.
_HEURISTIC_CHARS = 1000

_HTML_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")

# ---------------------------------------------------------------------------
# CSS: just enough to tell what is visible and how paragraphs are spaced
# ---------------------------------------------------------------------------

RGBA = tuple[float, float, float, float]
Declarations = dict[str, tuple[str, bool]]  # property -> (value, !important)

_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.DOTALL)
_IMPORTANT = re.compile(r"!\s*important\s*$", re.IGNORECASE)
_LENGTH = re.compile(
    r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(px|pt|pc|in|cm|mm|q|em|rem|ex|ch|%|vw|vh|vmin|vmax)?$"
)
_CSS_BRACE = re.compile(r"[{}]")
_SELECTOR_PART = re.compile(r"([.#])([\w\-]+)")
# What this module reads of a style, besides background*, margin* and overflow*.
_USED_PROPERTIES = _words(
    "display visibility mso-hide opacity max-height height max-width width line-height position "
    "left top right clip clip-path transform text-indent font-size font color white-space"
)
_SIMPLE_SELECTOR = re.compile(r"^([a-z][a-z0-9:]*|\*)?((?:[.#][\w\-]+)*)$")
_ABSOLUTE_UNITS = {
    "px": 1.0,
    "pt": 4 / 3,
    "pc": 16.0,
    "in": 96.0,
    "cm": 96 / 2.54,
    "mm": 96 / 25.4,
    "q": 96 / 101.6,
}
_FONT_KEYWORDS = {
    "xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0,
    "large": 18.0, "x-large": 24.0, "xx-large": 32.0, "xxx-large": 48.0,
}  # fmt: skip
_NAMED_COLORS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0), "white": (255, 255, 255), "silver": (192, 192, 192),
    "gray": (128, 128, 128), "grey": (128, 128, 128), "red": (255, 0, 0),
    "maroon": (128, 0, 0), "yellow": (255, 255, 0), "olive": (128, 128, 0),
    "lime": (0, 255, 0), "green": (0, 128, 0), "aqua": (0, 255, 255), "cyan": (0, 255, 255),
    "teal": (0, 128, 128), "blue": (0, 0, 255), "navy": (0, 0, 128),
    "fuchsia": (255, 0, 255), "magenta": (255, 0, 255), "purple": (128, 0, 128),
    "orange": (255, 165, 0), "darkgray": (169, 169, 169), "darkgrey": (169, 169, 169),
    "dimgray": (105, 105, 105), "dimgrey": (105, 105, 105), "lightgray": (211, 211, 211),
    "lightgrey": (211, 211, 211), "gainsboro": (220, 220, 220),
    # Outlook's system colours.
    "windowtext": (0, 0, 0), "window": (255, 255, 255),
    # Near-white names, for white-on-white.
    "snow": (255, 250, 250), "honeydew": (240, 255, 240), "mintcream": (245, 255, 250),
    "azure": (240, 255, 255), "aliceblue": (240, 248, 255), "ghostwhite": (248, 248, 255),
    "whitesmoke": (245, 245, 245), "seashell": (255, 245, 238), "beige": (245, 245, 220),
    "oldlace": (253, 245, 230), "floralwhite": (255, 250, 240), "ivory": (255, 255, 240),
    "linen": (250, 240, 230), "lavenderblush": (255, 240, 245), "cornsilk": (255, 248, 220),
    "lightyellow": (255, 255, 224), "lightcyan": (224, 255, 255), "lemonchiffon": (255, 250, 205),
}  # fmt: skip
_BLACK: RGBA = (0.0, 0.0, 0.0, 1.0)
_WHITE: RGBA = (255.0, 255.0, 255.0, 1.0)
# Text within this distance (per channel, 0-255) of its background is unreadable.
_INVISIBLE_CONTRAST = 16.0
# Text this small (in CSS px) is unreadable.
_INVISIBLE_FONT_PX = 2.0
_DEFAULT_FONT_PX = 16.0


def _unescape_css(text: str) -> str:
    """Undo CSS escapes, so that `\\64isplay:none` is seen as `display:none`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return match.group(2)

    return _CSS_ESCAPE.sub(replace, text) if "\\" in text else text


def _declarations(block: str) -> Declarations:
    """Parse `a: b; c: d !important` into {property: (value, important)}."""
    result: Declarations = {}
    block = _unescape_css(_CSS_COMMENT.sub(" ", block))
    for item in block.split(";"):
        name, colon, value = item.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        value = value.strip().lower()
        important = bool(_IMPORTANT.search(value))
        if important:
            value = _IMPORTANT.sub("", value).strip()
        if name and value and (important or not result.get(name, ("", False))[1]):
            result[name] = (value, important)
    return result


@lru_cache(maxsize=1024)
def _length_px(value: str, relative_to: float = _DEFAULT_FONT_PX) -> float | None:
    """A CSS length in px; em and % count against `relative_to`. None if unknown."""
    match = _LENGTH.match(value.strip())
    if not match:
        return None
    number = float(match.group(1))
    unit = match.group(2)
    if unit is None:
        return number  # unitless: zero, a line-height factor or a legacy px value
    if unit in _ABSOLUTE_UNITS:
        return number * _ABSOLUTE_UNITS[unit]
    if unit in ("em", "ex", "ch"):
        return number * relative_to * (1.0 if unit == "em" else 0.5)
    if unit == "rem":
        return number * _DEFAULT_FONT_PX
    if unit == "%":
        return number * relative_to / 100.0
    return None  # viewport units: unknown here


def _is_zero(value: str | None) -> bool:
    if value is None:
        return False
    px = _length_px(value)
    return px is not None and px <= 0.0


@lru_cache(maxsize=1024)
def _font_size_px(value: str, parent_px: float) -> float:
    value = value.strip()
    if value in _FONT_KEYWORDS:
        return _FONT_KEYWORDS[value]
    if value == "smaller":
        return parent_px / 1.2
    if value == "larger":
        return parent_px * 1.2
    px = _length_px(value, parent_px)
    return parent_px if px is None or px < 0 else px


def _font_shorthand_size(value: str) -> str | None:
    """The size in a `font` shorthand ("bold 0/0 a", "12px/1.4 Arial")."""
    for token in value.split():
        size = token.split("/", 1)[0]
        if size in _FONT_KEYWORDS or _LENGTH.match(size):
            return size
    return None


@lru_cache(maxsize=1024)
def _parse_color(value: str) -> RGBA | None:
    """A CSS or legacy HTML colour as RGBA; None when unknown or inherited."""
    value = value.strip().lower()
    if not value:
        return None
    if value == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    if value in _NAMED_COLORS:
        red, green, blue = _NAMED_COLORS[value]
        return (float(red), float(green), float(blue), 1.0)
    digits = value[1:] if value.startswith("#") else value
    if re.fullmatch(r"[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8}", digits) and (
        value.startswith("#") or len(digits) == 6
    ):
        if len(digits) <= 4:
            digits = "".join(ch * 2 for ch in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        alpha = channels[3] / 255 if len(channels) == 4 else 1.0
        return (float(channels[0]), float(channels[1]), float(channels[2]), alpha)
    function = re.fullmatch(r"(rgba?|hsla?)\(([^)]*)\)", value)
    if not function:
        return None
    parts = [p for p in re.split(r"[\s,/]+", function.group(2).strip()) if p]
    if len(parts) < 3:
        return None
    try:
        alpha = 1.0
        if len(parts) > 3:
            alpha = float(parts[3][:-1]) / 100 if parts[3].endswith("%") else float(parts[3])
        if function.group(1).startswith("rgb"):
            rgb = [float(p[:-1]) * 2.55 if p.endswith("%") else float(p) for p in parts[:3]]
            return (rgb[0], rgb[1], rgb[2], alpha)
        hue = float(parts[0].removesuffix("deg")) / 360.0 % 1.0
        saturation = float(parts[1].rstrip("%")) / 100.0
        lightness = float(parts[2].rstrip("%")) / 100.0
        red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
        return (red * 255, green * 255, blue * 255, alpha)
    except ValueError:
        return None


_NO_PAINT: RGBA = (0.0, 0.0, 0.0, 0.0)


def _background_of(value: str) -> RGBA | None:
    """The colour a `background` shorthand paints: RGBA (alpha 0 when it
    paints nothing), or None when unknown (an image, a gradient)."""
    if "url(" in value or "gradient(" in value:
        return None
    for token in re.findall(r"(?:rgba?|hsla?)\([^)]*\)|#[0-9a-fA-F]+|[a-zA-Z]+", value):
        color = _parse_color(token)
        if color is not None:
            return color
    return _NO_PAINT


@dataclass(frozen=True, slots=True)
class _Rule:
    tag: str | None
    classes: frozenset[str]
    element_id: str | None
    declarations: Declarations


class _Stylesheet:
    """The simple rules of the document's <style> elements.

    Only top-level rules with compound selectors (`p`, `.x`, `#y`,
    `p.MsoNormal`) are used; rules inside @media apply only sometimes, and
    combinators would need a selector engine. That is enough for the classes
    mail programs and templates hide things with (`.preheader {display:none}`)
    and for Word's `p.MsoNormal {margin:0}`.
    """

    def __init__(self) -> None:
        self._by_class: dict[str, list[tuple[int, _Rule]]] = {}
        self._by_id: dict[str, list[tuple[int, _Rule]]] = {}
        self._by_tag: dict[str, list[tuple[int, _Rule]]] = {}
        self._count = 0

    def add(self, css: str) -> None:
        for selectors, body in _css_rules(css):
            declarations = {
                name: value
                for name, value in _declarations(body).items()
                if name in _USED_PROPERTIES or name.startswith(("background", "margin", "overflow"))
            }
            if not declarations:
                continue  # fonts, borders, paddings: nothing this module reads
            for selector in selectors.split(","):
                match = _SIMPLE_SELECTOR.match(selector.strip().lower())
                if not match or not selector.strip():
                    continue
                tag = match.group(1) if match.group(1) not in (None, "*") else None
                names = _SELECTOR_PART.findall(match.group(2))
                ids = [name for kind, name in names if kind == "#"]
                rule = _Rule(
                    tag,
                    frozenset(name for kind, name in names if kind == "."),
                    ids[0] if ids else None,
                    declarations,
                )
                self._count += 1
                entry = (self._count, rule)
                if rule.classes:
                    self._by_class.setdefault(min(rule.classes), []).append(entry)
                elif rule.element_id:
                    self._by_id.setdefault(rule.element_id, []).append(entry)
                else:
                    self._by_tag.setdefault(rule.tag or "*", []).append(entry)

    def matching(self, tag: str, classes: frozenset[str], element_id: str) -> list[_Rule]:
        if not self._count:
            return []
        candidates: list[tuple[int, _Rule]] = []
        for name in classes:
            candidates.extend(self._by_class.get(name, ()))
        if element_id:
            candidates.extend(self._by_id.get(element_id, ()))
        candidates.extend(self._by_tag.get(tag, ()))
        candidates.extend(self._by_tag.get("*", ()))
        candidates.sort(key=lambda entry: entry[0])
        return [
            rule
            for _, rule in candidates
            if (rule.tag is None or rule.tag == tag)
            and rule.classes <= classes
            and (rule.element_id is None or rule.element_id == element_id)
        ]


def _css_rules(css: str) -> Iterator[tuple[str, str]]:
    """(selector list, declaration block) for each top-level rule; @-rules skipped."""
    css = _CSS_COMMENT.sub(" ", css).replace("<!--", " ").replace("-->", " ")
    depth = 0
    start = 0
    selector = ""
    for brace in _CSS_BRACE.finditer(css):
        index, char = brace.start(), brace.group()
        if char == "{":
            if depth == 0:
                # "@import x; p {" leaves the statement before the selector.
                selector = css[start:index].rsplit(";", 1)[-1].strip()
                start = index + 1
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                if not selector.startswith("@"):
                    yield selector, css[start:index]
                start = index + 1


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

# libxml2 refuses to nest deeper than 2048 elements (with huge_tree) and stops
# reading there; deeper input is flattened below this depth first.
_FLATTEN_DEPTH = 1000
_VOID_TAGS = _words(
    "area base br col embed hr img input link meta param source track wbr basefont bgsound "
    "frame keygen"
)
_SELF_CLOSING_SIBLINGS = _words("p li dt dd tr td th option")


def _parse(html: str) -> etree._Element | None:
    root, too_deep = _parse_bytes(_encode(html))
    if too_deep:
        flattened = _flatten_deep_nesting(html)
        if flattened is not None:
            deeper_root, _ = _parse_bytes(_encode(flattened))
            if deeper_root is not None:
                root = deeper_root
    return root


def _encode(html: str) -> bytes:
    # The encoding is given to the parser, so a <meta charset> or an XML
    # declaration inside the text cannot make it decode the bytes differently.
    return html.replace("\x00", "\ufffd").encode("utf-8", "replace")


def _parse_bytes(data: bytes) -> tuple[etree._Element | None, bool]:
    parser = etree.HTMLParser(
        encoding="utf-8",
        recover=True,
        no_network=True,
        remove_comments=True,  # comments, conditional comments and their <xml> islands
        remove_pis=True,
        huge_tree=True,
        compact=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError):
        return None, False
    too_deep = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    return root, too_deep


class _DepthCapper(HTMLParser):
    """Re-serialise HTML with no element nested deeper than `limit`.

    Beyond the limit, tags are left out and their text stays, unless an
    attribute could hide it or mark a signature (style, class, id, hidden…):
    then the tag goes with its whole content.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=False)
        self.limit = limit
        self.output: list[str] = []
        self._open: list[tuple[str, bool, bool]] = []  # (tag, written, skipping)
        self._written = 0
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            if not self._skipping:
                self.output.append(self.get_starttag_text() or "")
            return
        if tag in _SELF_CLOSING_SIBLINGS and self._open and self._open[-1][0] == tag:
            self._close_top()
        if self._skipping:
            self._open.append((tag, False, False))
        elif self._written < self.limit:
            self.output.append(self.get_starttag_text() or "")
            self._open.append((tag, True, False))
            self._written += 1
        elif (
            tag in _SILENT_TAGS
            or tag in _REPLACED_TAGS
            or any(name in _PROFILE_ATTRIBUTES for name, _ in attrs)
        ):
            self._open.append((tag, False, True))
            self._skipping += 1
        else:
            self._open.append((tag, False, False))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                while len(self._open) > index:
                    self._close_top()
                return
        if not self._skipping:
            self.output.append(f"</{tag}>")

    def _close_top(self) -> None:
        tag, written, skipping = self._open.pop()
        if written:
            self.output.append(f"</{tag}>")
            self._written -= 1
        if skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.output.append(data)

    def handle_entityref(self, name: str) -> None:
        if not self._skipping:
            self.output.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self._skipping:
            self.output.append(f"&#{name};")


def _flatten_deep_nesting(html: str) -> str | None:
    capper = _DepthCapper(_FLATTEN_DEPTH)
    try:
        capper.feed(html)
        capper.close()
    except Exception:  # the stdlib tokenizer has raised on odd markup; keep lxml's partial tree
        return None
    return "".join(capper.output)


# ---------------------------------------------------------------------------
# Output: lines with a quote depth
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Checkpoint:
    line_count: int
    state: tuple[list[str], bool, int, bool, bool, str, str, int, int]


class _Lines:
    """Builds the text line by line, each line remembering its quote depth.

    Block boundaries end the current line and may owe a blank line; inline
    whitespace collapses to one space; a table cell owes a separator and a
    list item its marker, both written only if content follows.
    """

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self.parts: list[str] = []
        self.open = False  # the current line has started (its depth is fixed)
        self.depth = 0
        self.blank = False  # a blank line is owed before the next content
        self.space = False  # a collapsible space is owed
        self.separator = ""  # an inline separator (table cells) is owed
        self.marker = ""  # a list marker is owed at the next content
        self.visible = 0  # chunks written that hold more than whitespace
        self.nonempty = 0  # finished lines that hold text
        self.last_char = ""
        self.captures: list[list[str]] = []  # the text of the links being written

    def write(self, text: str, depth: int) -> None:
        """Write collapsed inline text (no runs of ASCII whitespace)."""
        core = text.strip(" ")
        if not core:
            if self.parts:
                self.space = True
            return
        if text[0] == " " and self.parts:
            self.space = True
        blank_only = not core.strip()  # NBSP and friends only
        if not self.open:
            self._start_line(depth)
        if blank_only and (not self.parts or self.separator):
            return  # indentation, or an empty table cell: nothing to show
        self._append(core, blank_only)
        self.space = text[-1] == " "

    def write_raw(self, text: str, depth: int) -> None:
        """Write preformatted text: spaces kept, newlines end lines."""
        for index, segment in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
            if index:
                self.line_break(depth)
            if segment:
                if not self.open:
                    self._start_line(depth)
                self._append(segment, not segment.strip())
                self.space = False

    def _append(self, text: str, blank_only: bool) -> None:
        if self.parts:
            prefix = self.separator or (" " if self.space else "")
        else:
            prefix, self.marker = self.marker, ""
        chunk = prefix + text
        self.parts.append(chunk)
        self.separator = ""
        self.last_char = text[-1]
        if not blank_only:
            self.visible += 1
        for capture in self.captures:
            capture.append(chunk)

    def _start_line(self, depth: int) -> None:
        if self.blank:
            self.blank = False
            # text() removes it again between an attribution and its quote.
            if self.lines and self.lines[-1][1]:
                self.lines.append((depth, ""))
        self.open = True
        self.depth = depth

    def _finish(self) -> None:
        text = "".join(self.parts).rstrip(" \t\u00a0")
        stripped = text.strip()
        if not stripped:
            text = ""
        elif stripped == "--":
            text = "-- "  # the RFC 3676 §4.3 delimiter; HTML rendering ate its space
        else:
            self.nonempty += 1
        self.lines.append((self.depth, text))
        self.parts = []
        self.open = False

    def boundary(self, blank: bool) -> None:
        """A block starts or ends here."""
        if self.open:
            self._finish()
        if blank:
            self.blank = True
        self.space = False
        self.separator = ""

    def line_break(self, depth: int) -> None:
        """<br>: end the line, or write an empty one."""
        if not self.open:
            self._start_line(depth)
        self._finish()
        self.space = False
        self.separator = ""

    def delimiter(self, depth: int) -> None:
        """A signature delimiter line "-- " (RFC 3676 §4.3)."""
        self.boundary(False)
        self._start_line(depth)
        self.lines.append((depth, "-- "))
        self.open = False

    def checkpoint(self) -> _Checkpoint:
        return _Checkpoint(
            len(self.lines),
            (
                list(self.parts), self.open, self.depth, self.blank, self.space,
                self.separator, self.marker, self.visible, self.nonempty,
            ),
        )  # fmt: skip

    def text_since(self, checkpoint: _Checkpoint) -> list[str]:
        return [text for _, text in self.lines[checkpoint.line_count :] if text]

    def rollback(self, checkpoint: _Checkpoint) -> None:
        del self.lines[checkpoint.line_count :]
        (
            self.parts, self.open, self.depth, self.blank, self.space,
            self.separator, self.marker, self.visible, self.nonempty,
        ) = checkpoint.state  # fmt: skip
        self.parts = list(self.parts)

    def hoist_attribution(self, start: int, outer_depth: int) -> None:
        """Move the first line written since `start` out of its quote if it is
        an attribution ("On 3 Sep 2024, at 10:01, Alice <a@…> wrote:") and
        the quote has no attribution above it already (Apple Mail)."""
        for depth, text in reversed(self.lines[:start]):
            if text:
                if depth <= outer_depth and text.rstrip().endswith(":"):
                    return
                break
        for index in range(start, len(self.lines)):
            depth, text = self.lines[index]
            if not text:
                continue
            stripped = text.strip()
            if (
                stripped.endswith(":")
                and "@" in stripped
                and any(ch.isdigit() for ch in stripped)
                and len(stripped) <= 400
            ):
                del self.lines[start:index]
                self.lines[start] = (outer_depth, text)
            return

    def last_line(self) -> str:
        return self.lines[-1][1] if self.lines else ""

    def text(self) -> str:
        if self.open:
            self._finish()
        kept: list[tuple[int, str]] = []
        for depth, text in self.lines:
            if not text:
                if kept and kept[-1][1]:
                    kept.append((depth, text))
                continue
            # No blank line between an attribution and the deeper quote below it.
            if len(kept) >= 2 and not kept[-1][1]:
                previous_depth, previous = kept[-2]
                if depth > previous_depth and previous.rstrip().endswith(":"):
                    kept.pop()
            kept.append((depth, text))
        while kept and not kept[-1][1]:
            kept.pop()
        rendered = []
        for index, (depth, text) in enumerate(kept):
            if not text:
                # Between two depths a blank line belongs to the shallower one.
                depth = min(kept[index - 1][0], kept[index + 1][0])
            prefix = "> " * min(depth, _MAX_QUOTE_DEPTH)
            rendered.append(prefix + text if text else prefix.rstrip())
        return "\n".join(rendered) + "\n" if rendered else ""


# ---------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Frame:
    """What an element hands down to its content."""

    color: RGBA = _BLACK
    background: RGBA | None = _WHITE  # None: unknown (an image), so text counts as visible
    font_px: float = _DEFAULT_FONT_PX
    visibility_hidden: bool = False
    text_visible: bool = True
    preformatted: bool = False
    compact: bool = False  # paragraphs without blank lines (inside header blocks)
    list_level: int = 0


@dataclass(slots=True)
class _Scope:
    """Where quoting that a header block starts ends: the document, a quote
    element, or a client's quote container."""

    quote: bool
    extra: int = 0  # levels added by header blocks inside
    await_line: int | None = None  # quote after the first line (Yahoo attribution)


@dataclass(slots=True)
class _List:
    ordered: bool
    next_number: int


@dataclass(slots=True)
class _Open:
    """An element being walked, and what to do when it closes."""

    frame: _Frame
    block: bool = False
    blank_after: bool = False
    scope: _Scope | None = None
    header: bool = False
    href: str | None = None
    capture: list[str] | None = None
    list_pushed: bool = False
    row_pushed: bool = False
    checkpoint: _Checkpoint | None = None
    hoist_from: int | None = None


@dataclass(frozen=True, slots=True)
class _Profile:
    """What an element's tag and attributes say, worked out once per distinct
    combination (mail repeats the same few styles thousands of times)."""

    dropped: bool  # hidden, or a signature container that always goes
    restyles: bool  # changes anything a _Frame carries
    color: RGBA | None  # None: inherited
    background_set: bool
    background: RGBA | None  # when set: None is unknown (an image)
    font_size: str | None
    visibility_hidden: bool | None  # None: inherited
    preformatted: bool | None  # None: inherited
    is_block: bool
    margin_top: bool | None  # a blank line before; None: the tag's default
    margin_bottom: bool | None
    word_paragraph: bool  # Word's MsoNormal family: margin 0 without a style sheet too
    mobile_signature: bool
    header: bool  # a reply header block by its id or class
    header_if_labelled: bool  # a reply header block if its text starts "Label:"
    attribution: bool
    scope: str | None  # "quote", "plain" or "yahoo"
    cite: bool  # blockquote type=cite


# Attributes a profile depends on; everything else (href, name, start, value)
# is read from the element itself when needed.
_PROFILE_ATTRIBUTES = _words(
    "class id name style hidden color text bgcolor background type data-marker data-smartmail "
    "apple-content-edited"
)


@dataclass(slots=True)
class _Structure:
    """Roles decided by looking ahead, before the walk."""

    stylesheet: _Stylesheet = field(default_factory=_Stylesheet)
    header_blocks: set[etree._Element] = field(default_factory=set)
    separators: set[etree._Element] = field(default_factory=set)
    quote_containers: set[etree._Element] = field(default_factory=set)


@lru_cache(maxsize=4096)
def _name(raw: str) -> str:
    """A class or id name without client prefixes or quoted-printable debris."""
    name = _QP_DEBRIS.sub("", raw.strip().lower()).strip("\\\"'")
    return _CLIENT_PREFIX.sub("", name)


@lru_cache(maxsize=4096)
def _class_names(value: str) -> frozenset[str]:
    return frozenset(_name(token) for token in value.split())


def _tokens(value: str | None) -> frozenset[str]:
    return _class_names(value) if value else frozenset()


def _element_id(element: etree._Element) -> str:
    value = element.get("id")
    return _name(value) if value else ""


def _text_start(element: etree._Element, limit: int = 200) -> str:
    """Roughly the first `limit` characters of text inside `element`, reading
    at most _LOOKAHEAD_ELEMENTS elements (tails come early: a heuristic only)."""
    collected: list[str] = []
    size = 0
    for count, node in enumerate(element.iter()):
        if count >= _LOOKAHEAD_ELEMENTS or size >= limit:
            break
        if not isinstance(node.tag, str):
            continue
        for piece in (node.text, None if node is element else node.tail):
            if piece:
                collected.append(piece)
                size += len(piece)
    return _HTML_WHITESPACE.sub(" ", "".join(collected)).strip()


def _following(element: etree._Element) -> Iterator[etree._Element]:
    """The first _LOOKAHEAD_ELEMENTS elements after `element` in document order."""
    count = 0
    node: etree._Element | None = element
    while node is not None:
        for sibling in node.itersiblings():
            for candidate in sibling.iter():
                yield candidate
                count += 1
                if count >= _LOOKAHEAD_ELEMENTS:
                    return
        node = node.getparent()


class _LookAhead:
    """Whether a header block comes up, within a budget of element checks
    for the whole document (thousands of markers must not cost quadratic time)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget

    def finds_header(self, elements: Iterator[etree._Element]) -> bool:
        for count, element in enumerate(elements):
            if count >= _LOOKAHEAD_ELEMENTS or self.budget <= 0:
                return False
            self.budget -= 1
            if isinstance(element.tag, str) and _is_header_candidate(element):
                return True
        return False


def _looks_like_header_block(element: etree._Element) -> bool:
    """Classic Outlook: <div style="border:none;border-top:solid #E1E1E1 1.0pt">
    around "From: … Sent: …" (any language: a short label and a colon)."""
    style = element.get("style")
    if not style or not _BORDER_TOP_SOLID.search(style[:_HEURISTIC_CHARS]):
        return False
    return bool(_HEADER_LABEL.match(_text_start(element)))


def _is_header_candidate(element: etree._Element) -> bool:
    return _element_id(element) == _HEADER_ID or _looks_like_header_block(element)


_LOWERCASE = "translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_WITH_ID = etree.XPath("//*[@id]")
_GMAIL_QUOTE_DIVS = etree.XPath(f"//div[contains({_LOWERCASE}, 'gmail_quote')]")


def _study(root: etree._Element) -> _Structure:
    """Collect the style sheets and decide the roles that need look-ahead."""
    structure = _Structure()
    look_ahead = _LookAhead(_LOOKAHEAD_BUDGET)
    for style in root.iter("style"):
        structure.stylesheet.add("".join(style.itertext()))
    for element in _WITH_ID(root):
        element_id = _element_id(element)
        if element_id == "appendonsend":
            # New Outlook puts an empty #appendonsend before the header block;
            # on its own it is the only sign of where the earlier message starts.
            if not look_ahead.finds_header(_following(element)):
                structure.separators.add(element)
        elif element_id == "olk_src_body_section":
            # Outlook for Mac: the first block is the header block, unless it
            # is recognisable by itself.
            if not look_ahead.finds_header(element.iterdescendants()):
                for child in element:
                    if isinstance(child.tag, str) and _text_start(child, 20):
                        structure.header_blocks.add(child)
                        break
        elif (
            element_id == "mail-editor-reference-message-container"
            and not look_ahead.finds_header(element.iterdescendants())
        ):
            # Outlook mobile's earlier message, when no header block opens it.
            structure.quote_containers.add(element)
    for element in _GMAIL_QUOTE_DIVS(root):
        if "gmail_quote" not in _tokens(element.get("class")):
            continue
        children = [child for child in element if isinstance(child.tag, str)]
        attribution = [c for c in children if "gmail_attr" in _tokens(c.get("class"))]
        # A reply puts the quoted mail in a blockquote; a forward does not, so
        # there the attribution ("---------- Forwarded message --------- From:
        # …") is a header block and the rest is the earlier message.
        if attribution and not any(child.tag == "blockquote" for child in children):
            structure.header_blocks.add(attribution[0])
    return structure


class _Renderer:
    def __init__(self, structure: _Structure) -> None:
        self.structure = structure
        self.out = _Lines()
        self.frames: list[_Frame] = [_Frame()]
        self.scopes: list[_Scope] = [_Scope(quote=False)]
        self.lists: list[_List] = []
        self.rows: list[int] = []  # `visible` count when each open table row started
        self.depth = 0
        self.awaiting: list[_Scope] = []  # scopes waiting for their first line, inner last
        self._profiles: dict[tuple[object, ...], _Profile] = {}
        self._marked = bool(
            structure.header_blocks or structure.separators or structure.quote_containers
        )

    # -- the iteration --------------------------------------------------

    def render(self, root: etree._Element) -> str:
        # An explicit stack instead of recursion: nesting depth is the input's choice.
        stack: list[tuple[etree._Element, _Open | None]] = [(root, None)]
        while stack:
            element, opened = stack.pop()
            if opened is None:
                opened = self._open(element)
                if opened is None:
                    self._text(element.tail, self.frames[-1])
                    continue
                stack.append((element, opened))
                self._text(element.text, opened.frame)
                if len(element):
                    stack.extend([(child, None) for child in reversed(element)])
            else:
                self._close(opened)
                self._text(element.tail, self.frames[-1])
        return self.out.text()

    def _text(self, text: str | None, frame: _Frame) -> None:
        if not text or not frame.text_visible:
            return
        if self.awaiting:
            self._quote_after_first_line()
        if _CONTROL.search(text):
            text = _CONTROL.sub("", text)  # C0 controls are not rendered
        if frame.preformatted:
            self.out.write_raw(text, self.depth)
        else:
            self.out.write(_HTML_WHITESPACE.sub(" ", text), self.depth)

    # -- opening an element ---------------------------------------------

    def _open(self, element: etree._Element) -> _Open | None:
        """Start an element; None when it is dropped with its content."""
        tag = element.tag
        if not isinstance(tag, str):
            return None  # a comment, an entity or a processing instruction
        tag = tag.lower()
        if tag in _SILENT_TAGS or (tag.startswith("o:") and tag != "o:p"):
            return None  # <o:p> is Word's paragraph text; other o: elements are metadata
        if tag in _REPLACED_TAGS:
            if self.frames[-1].text_visible and self.out.parts:
                self.out.space = True  # the image stood between two words
            return None
        profile = self._profile(tag, element.items())
        if profile.dropped:
            return None

        parent = self.frames[-1]
        frame = self._frame(profile, parent) if profile.restyles else parent
        opened = _Open(frame=frame)
        self.frames.append(frame)
        if tag == "br":
            self.out.line_break(self.depth)
            return opened

        marked = self._marked
        if (
            profile.header
            or (marked and element in self.structure.header_blocks)
            or (profile.header_if_labelled and _HEADER_LABEL.match(_text_start(element)))
        ):
            # After a blank line, unless a separator line introduces it.
            self.out.boundary(False)
            self.out.boundary(not _SEPARATOR_LINE.match(self.out.last_line()[:_HEURISTIC_CHARS]))
            self._replace_frame(opened, compact=True)
            opened.header = True
            opened.block = True
            return opened

        scope_kind = profile.scope
        if marked and element in self.structure.quote_containers:
            scope_kind = "quote"
        if scope_kind is not None:
            scope = _Scope(
                quote=scope_kind == "quote",
                await_line=self.out.nonempty if scope_kind == "yahoo" else None,
            )
            self.out.boundary(True)
            opened.scope = scope
            opened.block = True
            opened.blank_after = scope.quote
            self.scopes.append(scope)
            if scope.quote:
                if profile.cite:
                    opened.hoist_from = len(self.out.lines)
                self.depth += 1
            if scope.await_line is not None:
                self.awaiting.append(scope)
        elif marked and element in self.structure.separators:
            self.out.boundary(True)
            self._quote_rest()
        elif profile.attribution:
            self.out.boundary(True)  # an attribution line starts a new paragraph
            opened.block = True
        elif tag in ("td", "th"):
            if self.rows and self.out.visible > self.rows[-1]:
                # "Subject: | foo" reads better as "Subject: foo" (header tables).
                self.out.separator = " " if self.out.last_char == ":" else " | "
            if profile.is_block:
                self._open_block(element, tag, profile, opened)
        elif profile.is_block:
            self._open_block(element, tag, profile, opened)

        if profile.mobile_signature:
            self.out.boundary(False)
            opened.checkpoint = self.out.checkpoint()
        if tag == "a":
            self._open_link(element, opened)
        return opened

    def _open_block(
        self, element: etree._Element, tag: str, profile: _Profile, opened: _Open
    ) -> None:
        opened.block = True
        if tag == "hr":
            spaced_before = spaced_after = True
        elif opened.frame.compact:
            spaced_before = spaced_after = False
        else:
            default = tag in _SPACED_TAGS and not profile.word_paragraph
            if tag in ("ul", "ol", "menu", "dir") and self.lists:
                default = False  # nested lists have no margins
            top, bottom = profile.margin_top, profile.margin_bottom
            spaced_before = default if top is None else top
            spaced_after = default if bottom is None else bottom
        self.out.boundary(spaced_before)
        opened.blank_after = spaced_after
        if tag == "tr":
            self.rows.append(self.out.visible)
            opened.row_pushed = True
        elif tag in ("ul", "ol", "menu", "dir"):
            start = (element.get("start") or "1").strip() if tag == "ol" else "1"
            self.lists.append(_List(tag == "ol", int(start) if start.isdigit() else 1))
            opened.list_pushed = True
            self._replace_frame(opened, list_level=opened.frame.list_level + 1)
        elif tag == "li":
            item_list = self.lists[-1] if self.lists else _List(False, 1)
            marker = "- "
            if item_list.ordered:
                value = (element.get("value") or "").strip()
                if value.isdigit():
                    item_list.next_number = int(value)
                marker = f"{item_list.next_number}. "
                item_list.next_number += 1
            indent = min(max(opened.frame.list_level - 1, 0), _MAX_LIST_INDENT)
            self.out.marker = "  " * indent + marker

    def _open_link(self, element: etree._Element, opened: _Open) -> None:
        name = (element.get("name") or "").strip().lower()
        if name == "_mailautosig" and _text_start(element, 5):
            # Classic Outlook bookmarks the first paragraph of the signature
            # only; the scrubber cuts from this delimiter to the next quote.
            self.out.delimiter(self.depth)
        href = element.get("href")
        if href:
            opened.href = href
            opened.capture = []
            self.out.captures.append(opened.capture)

    def _replace_frame(self, opened: _Open, **changes: object) -> None:
        # Frames are shared between elements that change nothing; copy before changing.
        opened.frame = replace(opened.frame, **changes)  # type: ignore[arg-type]
        self.frames[-1] = opened.frame

    # -- closing an element ---------------------------------------------

    def _close(self, opened: _Open) -> None:
        if opened.capture is not None:
            self.out.captures.remove(opened.capture)
            self._close_link(opened.href or "", "".join(opened.capture))
        if opened.block:
            self.out.boundary(opened.blank_after)
        if opened.header:
            self._quote_rest()
        if opened.scope is not None:
            scope = self.scopes.pop()
            if opened.hoist_from is not None:
                self.out.hoist_attribution(opened.hoist_from, self.depth - 1)
            self.depth -= scope.extra + (1 if scope.quote else 0)
            if scope.await_line is not None:
                self.awaiting.pop()
        if opened.list_pushed:
            self.lists.pop()
        if opened.row_pushed:
            self.rows.pop()
        if opened.checkpoint is not None:
            self.out.boundary(False)
            written = self.out.text_since(opened.checkpoint)
            if (
                len(written) <= _MOBILE_SIGNATURE_MAX_LINES
                and sum(len(line) for line in written) <= _MOBILE_SIGNATURE_MAX_CHARS
                and all(len(line) <= _MOBILE_SIGNATURE_MAX_LINE for line in written)
            ):
                self.out.rollback(opened.checkpoint)
                self.out.boundary(False)
        self.frames.pop()

    def _close_link(self, href: str, text: str) -> None:
        target = _link_target(href)
        text = text.strip()
        if target and text and not _same_target(text, target):
            self.out.write(f" <{target}>", self.depth)

    # -- quoting ----------------------------------------------------------

    def _quote_rest(self) -> None:
        """Everything after this point in the current scope is the earlier message."""
        self.out.boundary(False)
        self.scopes[-1].extra += 1
        self.depth += 1

    def _quote_after_first_line(self) -> None:
        # Outer scopes wait for an earlier line than inner ones, so they are
        # ready whenever the innermost is.
        if self.out.open or self.out.nonempty <= (self.awaiting[-1].await_line or 0):
            return
        while self.awaiting:
            scope = self.awaiting.pop()
            scope.await_line = None
            scope.extra += 1
            self.depth += 1

    # -- what the attributes say -------------------------------------------

    def _profile(self, tag: str, items: list[tuple[str, str]]) -> _Profile:
        key = (tag, *[item for item in items if item[0] in _PROFILE_ATTRIBUTES])
        profile = self._profiles.get(key)
        if profile is None:
            profile = self._build_profile(tag, dict(items))
            if len(self._profiles) < 50_000:
                self._profiles[key] = profile
        return profile

    def _build_profile(self, tag: str, attributes: dict[str, str]) -> _Profile:
        classes = _tokens(attributes.get("class"))
        element_id = _name(attributes["id"]) if attributes.get("id") else ""
        declarations = self._declarations(tag, classes, element_id, attributes.get("style") or "")
        tokens = classes | {element_id} if element_id else classes
        if attributes.get("name"):
            tokens = tokens | {_name(attributes["name"])}
        mobile_signature = bool(tokens & _MOBILE_SIGNATURE_TOKENS) or (
            attributes.get("apple-content-edited") == "true"
        )
        signature = not mobile_signature and (
            any("signature" in token for token in tokens)
            or bool(tokens & _SIGNATURE_TOKENS)
            or tag == "signature"  # Mailspring
            or (attributes.get("data-smartmail") or "").lower() == "gmail_signature"
            or (attributes.get("data-marker") or "").lower() in _SIGNATURE_MARKERS
        )
        dropped = "hidden" in attributes or signature or _hides_content(declarations)

        # Presentational attributes first; CSS overrides them.
        color: RGBA | None = None
        legacy = attributes.get("color") if tag == "font" else None
        legacy = attributes.get("text") if tag == "body" else legacy
        if legacy:
            color = _parse_color(legacy)
        background_set = False
        background: RGBA | None = None
        if attributes.get("background"):
            background_set, background = True, None
        if attributes.get("bgcolor"):
            painted = _parse_color(attributes["bgcolor"])
            if painted is None or painted[3] > 0.1:
                background_set, background = True, painted
        if "color" in declarations:
            value = declarations["color"]
            color = _BLACK if value == "initial" else _parse_color(value) or color
        for name in ("background", "background-color", "background-image"):
            value = declarations.get(name)
            if value is None or value in ("none", "inherit", "initial"):
                continue
            painted = _parse_color(value) if name == "background-color" else _background_of(value)
            if painted is None or painted[3] > 0.1:
                background_set, background = True, painted
        font_size = declarations.get("font-size")
        if font_size is None and "font" in declarations:
            font_size = _font_shorthand_size(declarations["font"])
        visibility = declarations.get("visibility")
        visibility_hidden: bool | None = None  # "inherit" and unknown values inherit
        if visibility in ("hidden", "collapse"):
            visibility_hidden = True
        elif visibility == "visible":
            visibility_hidden = False
        white_space = declarations.get("white-space")
        preformatted: bool | None = True if tag in _PREFORMATTED_TAGS else None
        if white_space is not None:
            preformatted = white_space.startswith("pre") or white_space == "break-spaces"

        display = declarations.get("display")
        # inline-block columns and table-cell divs become lines of their own.
        is_block = tag in _BLOCK_TAGS if display is None else display not in ("inline", "contents")
        margin_top = margin_bottom = None
        margin = (declarations.get("margin") or "").split()
        if margin:
            margin_top = _spaced(margin[0])
            margin_bottom = _spaced(margin[2] if len(margin) > 2 else margin[0])
        if "margin-top" in declarations:
            margin_top = _spaced(declarations["margin-top"])
        if "margin-bottom" in declarations:
            margin_bottom = _spaced(declarations["margin-bottom"])

        scope: str | None = None
        if tag == "blockquote":
            # Outlook for Mac wraps its header block and the earlier message
            # in this blockquote; the header block does the quoting.
            scope = "plain" if element_id == "mac_outlook_attribution_blockquote" else "quote"
        elif tag == "div" and "yahoo_quoted" in classes:
            scope = "yahoo"  # "On Tuesday, …, Alice <…> wrote:", then the earlier message
        elif (attributes.get("name") or "").lower() == "quoted-content":
            scope = "quote"  # GMX and web.de, below their own header block
        elif (
            "gmail_quote" in classes
            or "moz-forward-container" in classes
            or element_id == "olk_src_body_section"
        ):
            scope = "plain"
        return _Profile(
            dropped=dropped,
            restyles=(
                color is not None
                or background_set
                or font_size is not None
                or visibility_hidden is not None
                or preformatted is not None
            ),
            color=color,
            background_set=background_set,
            background=background,
            font_size=font_size,
            visibility_hidden=visibility_hidden,
            preformatted=preformatted,
            is_block=is_block,
            margin_top=margin_top,
            margin_bottom=margin_bottom,
            word_paragraph=any(name.startswith("mso") for name in classes),
            mobile_signature=mobile_signature,
            header=tag in ("div", "p", "table")
            and (
                element_id == _HEADER_ID
                or "moz-email-headers-table" in classes
                or "outlookmessageheader" in classes  # Outlook 2003
                or (attributes.get("data-marker") or "").lower() == "__headers__"
            ),
            header_if_labelled=tag in ("div", "p")
            and bool(_BORDER_TOP_SOLID.search((attributes.get("style") or "")[:_HEURISTIC_CHARS])),
            attribution="gmail_attr" in classes or "moz-cite-prefix" in classes,
            scope=scope,
            cite=tag == "blockquote" and (attributes.get("type") or "").lower() == "cite",
        )

    def _declarations(
        self, tag: str, classes: frozenset[str], element_id: str, inline: str
    ) -> dict[str, str]:
        """The cascade, simplified: style sheet rules in order, then the
        style attribute; !important wins over later normal declarations."""
        merged: Declarations = {}
        sources = [
            rule.declarations
            for rule in self.structure.stylesheet.matching(tag, classes, element_id)
        ]
        if inline:
            sources.append(_declarations(inline))
        for declarations in sources:
            for name, (value, important) in declarations.items():
                if important or not merged.get(name, ("", False))[1]:
                    merged[name] = (value, important)
        return {name: value for name, (value, _) in merged.items()}

    @staticmethod
    def _frame(profile: _Profile, parent: _Frame) -> _Frame:
        color = parent.color if profile.color is None else profile.color
        background = profile.background if profile.background_set else parent.background
        font_px = parent.font_px
        if profile.font_size is not None:
            font_px = _font_size_px(profile.font_size, parent.font_px)
        visibility_hidden = parent.visibility_hidden
        if profile.visibility_hidden is not None:
            visibility_hidden = profile.visibility_hidden
        preformatted = parent.preformatted
        if profile.preformatted is not None:
            preformatted = profile.preformatted
        return _Frame(
            color=color,
            background=background,
            font_px=font_px,
            visibility_hidden=visibility_hidden,
            text_visible=(
                _readable(color, background)
                and not visibility_hidden
                and font_px > _INVISIBLE_FONT_PX
            ),
            preformatted=preformatted,
            compact=parent.compact,
            list_level=parent.list_level,
        )


@lru_cache(maxsize=1024)
def _readable(color: RGBA, background: RGBA | None) -> bool:
    """Text in `color` shows on `background` (None: unknown, so assume it does)."""
    if color[3] <= 0.1:
        return False
    if background is None:
        return True
    return max(abs(color[i] - background[i]) for i in range(3)) > _INVISIBLE_CONTRAST


@lru_cache(maxsize=1024)
def _spaced(value: str) -> bool:
    """A margin wide enough to show as a blank line."""
    px = _length_px(value)
    return px is not None and px > 2.0


def _hides_content(declarations: dict[str, str]) -> bool:
    """True when nothing inside the element can be seen, whatever it sets."""
    get = declarations.get
    if get("display") == "none" or get("mso-hide") == "all":
        return True
    opacity = get("opacity")
    if opacity is not None:
        try:
            value = float(opacity[:-1]) / 100 if opacity.endswith("%") else float(opacity)
        except ValueError:
            value = 1.0
        if value <= 0.01:
            return True
    overflow_hidden = any(
        (get(name) or "").startswith(("hidden", "clip"))
        for name in ("overflow", "overflow-x", "overflow-y")
    )
    if overflow_hidden and any(
        _is_zero(get(name))
        for name in ("max-height", "height", "max-width", "width", "line-height")
    ):
        return True
    if _is_zero(get("width")) and _is_zero(get("height")):
        return True
    if get("position") in ("absolute", "fixed"):
        for name in ("left", "top", "right"):
            offset = _length_px(get(name) or "")
            if offset is not None and offset <= -500:
                return True
        clip = get("clip") or ""
        numbers = re.findall(r"-?[\d.]+", clip)
        if clip.startswith("rect(") and numbers and len(set(numbers)) == 1:
            return True
    indent = _length_px(get("text-indent") or "")
    if indent is not None and indent <= -500:
        return True
    clip_path = get("clip-path") or ""
    inset = re.match(r"inset\(\s*([\d.]+)%", clip_path)
    if inset and float(inset.group(1)) >= 50:
        return True
    transform = get("transform") or ""
    return bool(re.search(r"scale[xy]?\(\s*0+(?:\.0*)?\s*[,)]", transform))


# ---------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------


def _link_target(href: str) -> str | None:
    """What a link points at, as text for the scrubber; None when it points at
    nothing worth showing (scripts, data, fragments, relative paths, files)."""
    href = re.sub(r"[\t\n\r]", "", href).strip()
    match = _URL_SCHEME.match(href)
    if not match:
        return None
    scheme = match.group(1).lower()
    rest = href[match.end() :]
    if scheme == "mailto":
        address = unquote(rest.split("?", 1)[0]).strip()
        return _URL_UNSAFE.sub("", address) or None
    if scheme in _PHONE_SCHEMES:
        number = unquote(rest.split("?", 1)[0]).strip()
        return _URL_UNSAFE.sub("", number) or None
    if scheme not in _LINK_SCHEMES:
        return None
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", href)


def _comparable(text: str) -> str:
    text = unquote(text).strip().strip("<>[]()\"'").strip().casefold()
    text = re.sub(r"^(?:mailto:|tel:|https?://)", "", text)
    return text.rstrip("/")


def _same_target(text: str, target: str) -> bool:
    if _comparable(text) == _comparable(target):
        return True
    # "+49 30 1234567" shows the number "tel:+49301234567" dials.
    return bool(_PHONE_NUMBER.fullmatch(target)) and (
        re.sub(r"\D", "", text) == re.sub(r"\D", "", target)
    )


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def html_to_text(html: str) -> str:
    """The visible text of an HTML mail part, laid out like plain-text mail.

    Quotes are prefixed "> " per level, attribution lines and header blocks
    stand on their own lines, signatures are gone, hidden text and resource
    URLs never appear, links read "text <URL>". Never raises.
    """
    if not isinstance(html, str) or not html.strip():
        return ""
    root = _parse(html)
    if root is None:
        return ""
    return _Renderer(_study(root)).render(root)
