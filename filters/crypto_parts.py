"""S/MIME and OpenPGP pieces of a post (CHATHAM_HOUSE.md §2.2).

Signatures name their signer: an S/MIME signature carries the certificate
(`CN=Alice Müller, O=Operator A, E=alice@…`), an OpenPGP signature the issuer
key id and often the signer's user id. Encrypted parts list their recipients
(RecipientInfos, PKESK key ids). So signatures and keys are dropped, encrypted
content is never archived, and signed content is kept without its signature:

- `signed_data_content` takes the content out of an opaque S/MIME message
  (application/pkcs7-mime; smime-type=signed-data, RFC 8551 §3.5.2), whose
  content sits inside the CMS structure next to the certificates;
- `strip_inline_pgp` removes inline OpenPGP armour from a text (RFC 4880 §7:
  cleartext signatures, with their dash-escaping undone; §6.2: signature,
  message and key blocks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def signed_data_content(der: bytes) -> bytes | None:
    """The encapsulated content of a CMS SignedData (RFC 5652 §5.2), or None.

    None when the bytes are not SignedData, when the signature is detached (no
    content inside), or when asn1crypto is not installed: the caller then holds
    the post instead of archiving the opaque blob (decision 5).
    """
    try:
        from asn1crypto import cms
    except ImportError:
        return None
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            return None
        content = info["content"]["encap_content_info"]["content"]
        value = content.native if content is not None else None
    except Exception:  # asn1crypto raises many types on malformed DER; all mean "not unwrapped"
        return None
    if isinstance(value, bytes | bytearray) and value:
        return bytes(value)
    return None


@dataclass(frozen=True, slots=True)
class InlinePgp:
    text: str
    encrypted: bool  # an armoured PGP MESSAGE block was removed
    keys_removed: int  # armoured key blocks removed


# Armour lines may sit in a quote (">", "> > ") when a signed post is answered.
_ARMOUR = re.compile(
    r"^(?P<quote>(?:>[ \t]?)*)-----BEGIN PGP (?P<kind>SIGNED MESSAGE|SIGNATURE|MESSAGE"
    r"|PUBLIC KEY BLOCK|PRIVATE KEY BLOCK)-----[ \t]*$"
)
_ARMOUR_END = re.compile(r"^(?:>[ \t]?)*-----END PGP [A-Z ]+-----[ \t]*$")
_SIGNATURE_START = re.compile(r"^(?:>[ \t]?)*-----BEGIN PGP SIGNATURE-----[ \t]*$")


def strip_inline_pgp(text: str) -> InlinePgp:
    """Remove inline OpenPGP armour; keep the text of cleartext-signed messages.

    A block without its END line runs to the end of the text: what follows an
    unterminated armour header cannot be told apart from armour, and dropping
    it fails closed.
    """
    lines = text.split("\n")
    out: list[str] = []
    encrypted = False
    keys_removed = 0
    index = 0
    while index < len(lines):
        found = _ARMOUR.match(lines[index])
        if found is None:
            out.append(lines[index])
            index += 1
            continue
        kind, quote = found.group("kind"), found.group("quote")
        if kind == "SIGNED MESSAGE":
            index = _cleartext(lines, index + 1, quote, out)
            continue
        encrypted = encrypted or kind == "MESSAGE"
        keys_removed += kind.endswith("KEY BLOCK")
        index = _skip_block(lines, index + 1)
    return InlinePgp("\n".join(out), encrypted, keys_removed)


def _skip_block(lines: list[str], index: int) -> int:
    while index < len(lines) and not _ARMOUR_END.match(lines[index]):
        index += 1
    return index + 1


def _cleartext(lines: list[str], index: int, quote: str, out: list[str]) -> int:
    """Copy a cleartext-signed text (RFC 4880 §7.1) and skip its signature."""
    # Armour headers ("Hash: SHA256") end at the first empty line.
    while index < len(lines) and lines[index][len(quote) :].strip():
        index += 1
    index += 1
    while index < len(lines):
        line = lines[index]
        if _SIGNATURE_START.match(line):
            return _skip_block(lines, index + 1)
        body = line[len(quote) :] if line.startswith(quote) else line
        if body.startswith("- "):  # dash-escaping (§7.1)
            line = line[: len(line) - len(body)] + body[2:]
        out.append(line)
        index += 1
    return index
