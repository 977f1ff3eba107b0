"""Multilingual pattern tables for reply structure (CHATHAM_HOUSE.md §2.5).

Mail clients write the same structures in the user's language: reply
attribution lines ("On … wrote:", "Am … schrieb …:"), Outlook header blocks
("De :/Envoyé :"), forward separators, closings ("Mit freundlichen Grüßen"),
device lines ("Inviato da iPhone"), legal disclaimers, external-sender banners
and company imprints. This module holds those tables as data and compiles them
once; `filters.reply_structure` decides what a match means.

Every pattern is meant for ONE line (or the head of one paragraph) that the
caller has stripped and cut to a bounded length (`MAX_*` below), and no
pattern has two unbounded quantifiers over the same characters next to each
other, so matching stays linear on any input.

Sources: the Quote-header experiment of CHATHAM_HOUSE.md §4, the tables of
mail-parser-reply (`mailparser_reply/constants.py`) and quotequail
(`quotequail/_patterns.py`), and the localised strings of Outlook, Gmail,
Apple Mail and Thunderbird.
"""

from __future__ import annotations

import re
from enum import StrEnum

# Lines longer than these are never structure (an attribution line, a header
# field, a closing, a device line, an imprint line); only their text is scrubbed.
MAX_STRUCTURE_LINE = 400
MAX_SHORT_LINE = 160
MAX_PARAGRAPH_HEAD = 1500

# Horizontal white space, with NBSP and the narrow NBSP that French typography
# puts before a colon ("De\u00a0:").
HS = r"[ \t\u00a0\u202f]"


def _words(*chunks: str) -> tuple[str, ...]:
    """A table written as "a|b|c" strings (compact, and stable under the formatter)."""
    return tuple(word.strip() for chunk in chunks for word in chunk.split("|") if word.strip())


def _alternation(phrases: tuple[str, ...]) -> str:
    """Phrases as one regex alternation, longest first; a space matches any HS run."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", HS + "+") for p in ordered)


class LowerCasePattern:
    """A pattern written in lower case and matched against lower-cased text.

    Unanchored searches with long alternations cost several times more under
    re.IGNORECASE than on lower-cased text; these run on most lines. Only the
    truth of the result is meant to be used: lower-casing may move offsets.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text.lower())

    def match(self, text: str) -> re.Match[str] | None:
        return self.pattern.match(text.lower())


# --- Header blocks (Outlook "From:/Sent:", forwards) ---------------------------------------------


class FieldRole(StrEnum):
    """What a header-block field is, whatever language labels it."""

    FROM = "from"
    SENT = "sent"  # Sent:, Date:, Gesendet:, Envoyé :, Enviado el:, Inviato:, ...
    TO = "to"
    CC = "cc"
    BCC = "bcc"
    SUBJECT = "subject"
    OTHER = "other"  # Reply-To, Importance, Attachments: dropped like To and Cc


FIELD_LABELS: dict[FieldRole, tuple[str, ...]] = {
    FieldRole.FROM: _words(
        "from|von|absender|de|da|van|od|från|fra|lähettäjä|от|από|feladó|kimden|remitente|"
        "expéditeur|mittente|afzender|remetente"
    ),
    FieldRole.SENT: _words(
        "sent|sent on|date|received|gesendet|datum|envoyé|envoyé le|date d'envoi|enviado|"
        "enviado el|enviados|fecha|enviada em|enviado em|enviada|data|inviato|inviato il|"
        "verzonden|verstuurd|wysłano|wysłane|skickat|sendt|dato|lähetetty|päivämäärä|"
        "отправлено|дата|ημερομηνία|στάλθηκε|elküldve|dátum|gönderildi|tarih|odesláno"
    ),
    FieldRole.TO: _words(
        "to|an|à|a|pour|para|aan|do|till|til|vastaanottaja|кому|προς|címzett|kime|komu|"
        "destinataire|destinatario|destinatari|destinatários"
    ),
    FieldRole.CC: _words("cc|kopie|copie|copie à|kopia|kopi|kopio|копия|κοιν|másolat|bilgi|dw"),
    FieldRole.BCC: _words("bcc|cci|cco|ccn|blindkopie|bkopie|ukryta kopia"),
    FieldRole.SUBJECT: _words(
        "subject|betreff|objet|sujet|asunto|oggetto|onderwerp|assunto|temat|ämne|emne|aihe|"
        "тема|θέμα|tárgy|konu|předmět"
    ),
    FieldRole.OTHER: _words(
        "reply-to|antwort an|répondre à|responder a|rispondi a|antwoord aan|importance|"
        "wichtigkeit|priorität|priorité|importancia|prioridad|priorità|urgenza|belangrijkheid|"
        "prioridade|importância|attachments|attachment|anlagen|anhänge|anhang|pièces jointes|"
        "adjuntos|allegati|bijlagen|anexos|organization|organisation"
    ),
}
_ROLE_OF_LABEL: dict[str, FieldRole] = {
    label: role for role, labels in FIELD_LABELS.items() for label in labels
}


def role_of_label(label: str) -> FieldRole:
    """The role of a label matched by `FIELD_LINE`, in any case or spacing."""
    return _ROLE_OF_LABEL.get(" ".join(label.split()).casefold(), FieldRole.OTHER)


# "From: …", "*From:* …" (bold, from HTML-to-text), "De\u00a0: …", "**Von:** …".
FIELD_LINE = re.compile(
    rf"^(?:\*{{1,2}}{HS}*)?(?P<label>{_alternation(tuple(_ROLE_OF_LABEL))})"
    rf"{HS}*(?:\*{{1,2}}{HS}*)?[:：](?:{HS}*\*{{1,2}})?(?P<value>.*)$",
    re.IGNORECASE,
)
# Outlook on phones and some webmail put a whole block on one line:
# "From: Alice <a@x> Sent: Tuesday … To: … Subject: …".
_INLINE_LABELS = tuple(
    label
    for role in (FieldRole.SENT, FieldRole.TO, FieldRole.CC, FieldRole.SUBJECT)
    for label in FIELD_LABELS[role]
    if len(label) > 2  # "a:", "an:", "do:" are too common inside a sentence
)
INLINE_FIELD = re.compile(
    rf"(?<=\s)(?:\*{{1,2}})?(?P<label>{_alternation(_INLINE_LABELS)}){HS}*(?:\*{{1,2}})?[:：]"
    rf"(?:\*{{1,2}})?",
    re.IGNORECASE,
)

ORIGINAL_MESSAGE_TITLES = _words(
    "original message|ursprüngliche nachricht|originalnachricht|original-nachricht|"
    "message d'origine|message original|mensaje original|messaggio originale|"
    "oorspronkelijk bericht|origineel bericht|oorspronkelijk e-mailbericht|mensagem original|"
    "oryginalna wiadomość|wiadomość oryginalna|ursprungligt meddelande|originalmeddelande|"
    "oprindelig meddelelse|opprinnelig melding|alkuperäinen viesti|původní zpráva|"
    "исходное сообщение|αρχικό μήνυμα|eredeti üzenet|orijinal mesaj|mesaj original|"
    "reply message"
)
FORWARD_TITLES = _words(
    "forwarded message|forwarded e-mail|forwarded email|weitergeleitete nachricht|"
    "weitergeleitete e-mail|message transféré|message transmis|mensaje reenviado|"
    "messaggio inoltrato|doorgestuurd bericht|doorgestuurde e-mail|mensagem encaminhada|"
    "mensagem reencaminhada|wiadomość przekazana dalej|przekazana wiadomość|"
    "vidarebefordrat meddelande|videresendt meddelelse|videresendt melding|välitetty viesti|"
    "přeposlaná zpráva|пересылаемое сообщение|προωθημένο μήνυμα|továbbított üzenet|"
    "iletilen ileti"
)
APPLE_FORWARD_INTROS = _words(
    "begin forwarded message|anfang der weitergeleiteten e-mail|"
    "anfang der weitergeleiteten nachricht|début du message réexpédié|"
    "début du message transféré|inicio del mensaje reenviado|comienzo del mensaje reenviado|"
    "inizio messaggio inoltrato|inizio del messaggio inoltrato|begin doorgestuurd bericht|"
    "início da mensagem reencaminhada|início da mensagem encaminhada|"
    "początek przekazywanej wiadomości|vidarebefordrat brev|videresendt besked|"
    "start på videresendt besked|välitetty viesti alkaa"
)
# "-----Original Message-----", "---------- Forwarded message ---------",
# "-------- Weitergeleitete Nachricht --------", "----- Original Message -----".
DASHED_SEPARATOR = re.compile(
    rf"^-{{2,}}{HS}*(?:{_alternation(ORIGINAL_MESSAGE_TITLES + FORWARD_TITLES)}){HS}*-{{2,}}$",
    re.IGNORECASE,
)
# Apple Mail: "Begin forwarded message:", "Anfang der weitergeleiteten E-Mail:".
APPLE_SEPARATOR = re.compile(
    rf"^(?:\*{{1,2}})?(?:{_alternation(APPLE_FORWARD_INTROS)}){HS}*[:：]?(?:\*{{1,2}})?$",
    re.IGNORECASE,
)
# Outlook's plain-text reply separator is 32 underscores; Yahoo and others use a
# similar rule, and Gmail renders Outlook's HTML rule as dashes. A rule is a
# separator only when a From field follows.
RULE_LINE = re.compile(r"^(?:_{6,}|-{6,}|[—―─]{4,}|={6,})$")
# Gateway tags in the subject of a quoted message ("RE: [EXTERNAL] …").
SUBJECT_GATEWAY_TAG = re.compile(
    r"\[(?:external|ext|extern|externe|externo|esterno|external email|external sender|"
    r"caution|warning|suspicious|non-?verified)\][ \t]*",
    re.IGNORECASE,
)
# The pseudonyms we write ("Participant A" … "Participant ZZ").
OWN_PSEUDONYM = re.compile(r"Participant [A-Z]{1,3}")
# Our own rewritten header block, recognised so that scrubbing again changes nothing.
OWN_HEADER_SEPARATOR = re.compile(r"^----- quoted message(?: \((?P<label>[^()\n]{1,80})\))? -----$")

# --- Reply attribution lines ---------------------------------------------------------------------

WROTE_VERBS = _words(
    "wrote|writes|has written|schrieb|schreibt|hat geschrieben|a écrit|écrit|escribió|"
    "ha escrito|escreveu|escribiu|ha scritto|scrisse|schreef|heeft geschreven|napisał(a)|"
    "napisał|napisała|pisze|skrev|skriver|kirjoitti|napsal(a)|napsal|napsala|έγραψε|"
    "написал(а)|написал|написала|пишет|írta|yazdı|a scris|scrie"
)
# "… Alice <a@x> wrote:", "… a écrit :", "… napisał(a):"
VERB_AT_END = LowerCasePattern(
    rf"(?:^|(?<=[\s>)\]\"'.,]))(?:{_alternation(WROTE_VERBS)}){HS}*[:：]$"
)
# The verb before the name or the date: "Op … schreef Alice <a@x>:", "Den … skrev
# Alice:", "Am … schrieb Alice:", "Alice <a@x> schrieb am Di., 3. Sept. 2024, 10:01:", Lotus Notes
# "Alice/OperatorA wrote on 03.09.2024 10:01:", Hungarian "… ezt írta (időpont: …):".
VERB_INSIDE = re.compile(
    r"(?:^|(?<=\s))(?:schreef|skrev|skriver|schrieb|schreibt|wrote on|ezt írta|a scris|"
    r"kirjoitti|napsal|napisał\(a\)|napisał|έγραψε)\s.{0,240}[:：]$",
    re.IGNORECASE,
)
# How attribution lines start: EN On, DE Am, FR Le, ES El, IT Il giorno / Il, NL Op,
# PT Em, PL W dniu / Dnia, SV/DA Den, CS Dne, EL Στις, RU В, and the weekday
# recent Gmail puts first in Nordic languages.
ATTRIBUTION_INTRO = re.compile(
    rf"^(?:on|am|le|el|il{HS}+giorno|il|op|em|às|w{HS}+dniu|dnia|den|dne|στις|в|"
    rf"mån|tis|ons|tor|fre|lör|sön|man|tir|lør|søn)(?:\.?{HS}|,)",
    re.IGNORECASE,
)
# Horde, Roundcube and others: "Quoting Alice <a@x>:", "Zitat von Alice <a@x>:".
QUOTING_LINE = re.compile(
    rf"^(?:quoting|zitat{HS}+von|citando|citation{HS}+de|cytuję|cytat|citerar|citaat{HS}+van)"
    rf"{HS}.{{1,240}}[:：]$",
    re.IGNORECASE,
)
# No verb, but a date and an address in angle brackets, before a quote (old Gmail
# "2024-09-03 10:01 GMT+02:00 Alice <a@x>:", Russian Gmail).
DATED_ADDRESS_LINE = re.compile(rf"\d.{{0,200}}<[^<>\s@]{{1,64}}@[^<>\s]{{1,255}}>{HS}*[:：]$")
# Our own rewritten forms, recognised so that scrubbing again changes nothing.
OWN_ATTRIBUTION = re.compile(r"^(?:Participant [A-Z]{1,3}|A participant) wrote:$")

# --- Signatures ----------------------------------------------------------------------------------

# RFC 3676 §4.3: "-- " alone on a line; also "--" (the space is often lost), and
# the rules of underscores that Outlook and gateways put before a signature or
# disclaimer. Tested on the line with its end stripped.
SIGNATURE_DELIMITER = re.compile(r"^(?:--|_{6,})$")

CLOSING_PHRASES = _words(
    # English
    "best regards|kind regards|kindest regards|warm regards|warmest regards|best wishes|"
    "with best regards|with kind regards|many thanks|thanks again|thanks in advance|"
    "thanks and regards|thanks & regards|thank you|regards|all the best|best|cheers|thanks|"
    "thx|br|kr|rgds|sincerely|yours sincerely|yours faithfully|yours truly|yours|"
    "respectfully|greetings|cordially|take care|",
    # German
    "mit freundlichen grüßen|mit freundlichen grüssen|mit freundlichen gruessen|"
    "mit freundlichem gruß|mit freundlichem gruss|freundliche grüße|freundliche grüsse|"
    "viele grüße|viele grüsse|beste grüße|beste grüsse|liebe grüße|liebe grüsse|"
    "herzliche grüße|herzliche grüsse|schöne grüße|schöne grüsse|besten gruß|besten dank|"
    "vielen dank|gruß|gruss|grüße|grüsse|lg|mfg|vg|bg|danke|ciao|",
    # French
    "cordialement|bien cordialement|très cordialement|bien à vous|bien à toi|salutations|"
    "meilleures salutations|sincères salutations|amicalement|bonne journée|bonne réception|"
    "merci|merci d'avance|à bientôt|bàv|",
    # Spanish
    "saludos|un saludo|saludos cordiales|un cordial saludo|atentamente|gracias|"
    "muchas gracias|un abrazo|abrazos|cordialmente|",
    # Italian
    "cordiali saluti|distinti saluti|saluti|un saluto|grazie|grazie mille|buona giornata|a presto|",
    # Dutch
    "met vriendelijke groet|met vriendelijke groeten|vriendelijke groet|vriendelijke groeten|"
    "hartelijke groet|hartelijke groeten|groeten|groet|mvg|bedankt|dank je|dank u|",
    # Portuguese
    "com os melhores cumprimentos|melhores cumprimentos|cumprimentos|atenciosamente|abraços|"
    "abraço|obrigado|obrigada|saudações|att|",
    # Polish, Swedish, Danish, Norwegian, Finnish
    "pozdrawiam|pozdrowienia|z poważaniem|serdecznie pozdrawiam|dziękuję|"
    "med vänlig hälsning|med vänliga hälsningar|vänliga hälsningar|hälsningar|"
    "bästa hälsningar|mvh|venlig hilsen|med venlig hilsen|vennlig hilsen|"
    "med vennlig hilsen|hilsen|ystävällisin terveisin|terveisin|",
    # Greek, Russian, Czech, Hungarian, Turkish, Romanian
    "με εκτίμηση|φιλικά|с уважением|всего доброго|s pozdravem|s úctou|üdvözlettel|"
    "saygılarımla|cu stimă|cu respect",
)
# "Viele Grüße aus Bonn", "Best regards from Vienna", "Saludos desde Madrid".
_FROM_PLACE = rf"(?:{HS}+(?:aus|from|de|da|desde|uit|z|från|fra){HS}+[^\W\d_][\w.'-]{{0,30}})?"
CLOSING_LINE = re.compile(
    rf"^(?:[-–—/*_>]{{1,3}}{HS}*)?(?P<phrase>{_alternation(CLOSING_PHRASES)}){_FROM_PLACE}"
    rf"[,.;:!…\-–—]*(?P<tail>(?:{HS}.{{0,80}})?)$",
    re.IGNORECASE,
)
# Name particles that stay lower case ("Ludwig van Beethoven", "José de la Cruz").
NAME_PARTICLES = frozenset(
    _words(
        "von|van|der|den|de|da|di|del|della|dei|du|le|la|los|las|dos|das|ten|ter|bin|al|el|y|e|zu"
    )
)
POSTSCRIPT = re.compile(r"^(?:p\.?\s?s\b|pps\b|p\.p\.s\b)", re.IGNORECASE)

# --- Device lines --------------------------------------------------------------------------------

_DEVICE_PHRASES = (
    # English
    r"sent from my [\w' .,()-]{1,40}",
    r"sent from (?:outlook|mail|yahoo mail|aol|proton ?mail|gmail|samsung mobile|huawei mobile|"
    r"xiaomi|workspace one boxer|blackberry)(?: for [\w ]{1,25})?",
    r"sent with proton ?mail(?: secure email)?",
    r"sent (?:via|using|with) (?:the )?[\w' .-]{1,30}",
    r"sent on the go",
    r"get outlook for (?:ios|android|mac)",
    # German
    r"von meinem [\w' .-]{1,40} gesendet",
    r"gesendet (?:von|mit|vom|mit der) (?:meinem |einem )?[\w' .-]{1,40}",
    r"outlook für (?:ios|android) beziehen",
    r"diese nachricht wurde von meinem [\w' .-]{1,60} gesendet",
    # French
    r"envoyé (?:de|depuis|à partir de) (?:mon |ma |l'application )?[\w' .-]{1,40}",
    r"(?:obtenir|téléchargez) outlook pour (?:ios|android)",
    # Spanish
    r"enviado desde (?:mi )?[\w' .-]{1,40}",
    r"obtener outlook para (?:ios|android)",
    # Italian
    r"inviato da(?:l)? (?:mio |il mio )?[\w' .-]{1,40}",
    r"scarica outlook per (?:ios|android)",
    # Dutch
    r"(?:verzonden|verstuurd) (?:vanaf|met|vanuit|van) (?:mijn )?[\w' .-]{1,40}",
    r"outlook voor (?:ios|android) downloaden",
    # Portuguese
    r"enviad[oa] (?:do|de|a partir do|pelo) (?:meu |minha )?[\w' .-]{1,40}",
    r"obter o outlook para (?:ios|android)",
    # Polish, Swedish, Danish/Norwegian, Finnish, Czech, Russian
    r"wysłan[eo] z (?:mojego |mojej )?[\w' .-]{1,40}",
    r"skickat från (?:min |mitt )?[\w' .-]{1,40}",
    r"sendt fra (?:min |mit )?[\w' .-]{1,40}",
    r"lähetetty [\w' .-]{1,40}",
    r"odesláno z (?:mého )?[\w' .-]{1,40}",
    r"отправлено с (?:моего )?[\w' .-]{1,40}",
)
# The whole (stripped) line; Outlook appends its short link
# ("Get Outlook for iOS<https://aka.ms/o0ukef>").
DEVICE_LINE = re.compile(
    rf"^(?:{'|'.join(_DEVICE_PHRASES)})[.!]?(?:{HS}?[<\[(]https?://[^\s<>\[\]()]{{1,200}}[>\])])?$",
    re.IGNORECASE,
)
# A device line names a device, an app or a mail service: "Sent from my home
# office" is a sentence, "Sent from my iPhone" is not.
DEVICE_WORDS = LowerCasePattern(
    r"iphone|ipad|android|mobile|mobil|handy|smartphone|phone|téléphone|teléfono|telefono|"
    r"telefone|telefon|tablet|galaxy|samsung|huawei|xiaomi|pixel|blackberry|outlook|mail|"
    r"courrier|correo|posta|e-post|aol|yahoo|proton|boxer|windows|ios|\bapp\b|surface|\bmac\b|"
    r"watch|nokia|motorola|oneplus|fairphone"
)

# --- Disclaimers and external-sender banners -----------------------------------------------------

# A disclaimer paragraph starts with one of these ...
DISCLAIMER_OPENING = re.compile(
    r"^\W{0,3}(?:"
    # English
    r"(?:this|the) (?:e-?mail|email message|message|communication|transmission|"
    r"electronic (?:mail|message|transmission))|"
    r"the (?:information|content|contents) (?:contained )?(?:in|of|within) this|"
    r"(?:confidentiality|legal|privacy|e-?mail|important) (?:notice|disclaimer|statement|note)|"
    r"disclaimer|confidential(?:ity)?(?: notice)?\s?:|if you (?:are not|have received this)|"
    r"please (?:consider|think of) the environment|think before you print|"
    r"any views or opinions|important\s?:\s?(?:this|the)|"
    # German
    r"diese (?:e-?mail|nachricht|mail|mitteilung)|der inhalt dieser (?:e-?mail|nachricht)|"
    r"die(?:se)? informationen? (?:in )?dieser (?:e-?mail|nachricht)|"
    r"(?:wenn|falls|sollten) sie nicht der (?:richtige|beabsichtigte|vorgesehene)|"
    r"vertraulichkeitshinweis|haftungsausschluss|rechtlicher hinweis|wichtiger hinweis|"
    r"bitte denken sie an die umwelt|"
    # French
    r"(?:ce|cet) (?:message|courriel|mail|e-?mail|envoi)|"
    r"les informations (?:contenues dans|de) (?:ce|cet)|"
    r"(?:avertissement|avis|clause) de confidentialité|si vous (?:n'?êtes pas|avez reçu ce)|"
    r"pensez à l'environnement|"
    # Spanish
    r"(?:este|esta) (?:mensaje|correo|e-?mail|comunicación)|"
    r"la información (?:contenida|incluida) en (?:este|esta)|"
    r"(?:aviso|nota|cláusula) (?:de )?(?:confidencialidad|legal)|"
    r"si (?:usted )?no es el destinatario|antes de imprimir|"
    # Italian
    r"(?:questo|questa|il presente|la presente) (?:messaggio|e-?mail|comunicazione|documento)|"
    r"le informazioni contenute (?:in|nel|nella)|"
    r"(?:avviso|nota|informativa) (?:di )?(?:riservatezza|legale|privacy)|ai sensi del|"
    r"se (?:avete|hai) ricevuto (?:questo|questa)|se non (?:siete|sei|è) il destinatario|"
    r"prima di stampare|"
    # Dutch
    r"dit (?:bericht|e-?mailbericht|e-?mail|mailbericht)|"
    r"de informatie (?:verzonden met|in) dit|vertrouwelijkheid|"
    r"indien (?:u|je) (?:dit bericht|niet de)|denk aan het milieu|"
    # Portuguese
    r"(?:esta|essa) (?:mensagem|comunicação)|este e-?mail|"
    r"a informação contida (?:nesta|neste)|se (?:você|vc) não (?:for|é) o destinatário|"
    # Polish, Nordic
    r"(?:ta|niniejsza) wiadomość|informacje zawarte w|"
    r"(?:detta|det här) (?:e-?postmeddelande|meddelande|mejl)|"
    r"(?:denne|dette) (?:e-?mail|meddelelse|besked|e-?posten)"
    r")",
    re.IGNORECASE,
)
# ... and says one of these within the paragraph (an opening alone is ordinary prose).
DISCLAIMER_KEYWORD = LowerCasePattern(
    r"confidential|privileged|intended (?:solely|only|exclusively)|intended recipient|"
    r"unauthori[sz]ed|prohibited|disclos|legally binding|environment|before printing|"
    r"vertraulich|irrtümlich|nicht der (?:richtige|beabsichtigte|vorgesehene)|empfänger|"
    r"adressat|untersagt|nicht gestattet|umwelt|ausdrucken|"
    r"confidentiel|destinataire|interdit|strictement|imprimer|"
    r"confidencial|destinatario|prohibid|medio ambiente|"
    r"riservat|confidenzial|destinatari|vietat|d\.\s?lgs|gdpr|ambiente|stampare|"
    r"vertrouwelijk|geadresseerde|bestemd|niet toegestaan|milieu|printen|"
    r"destinatário|proibid|poufn|adresat|zabronion|konfidentiell|mottagare|avsedd|"
    r"fortrolig|modtager"
)
# A heading alone on its line announces that the next paragraph is a disclaimer.
DISCLAIMER_HEADING = re.compile(
    r"^\W{0,3}(?:disclaimer|confidentiality notice|legal notice|haftungsausschluss|"
    r"vertraulichkeitshinweis|rechtlicher hinweis|avertissement|avis de confidentialité|"
    r"aviso legal|aviso de confidencialidad|avviso di riservatezza|informativa privacy)"
    r"\W{0,3}$",
    re.IGNORECASE,
)

_BANNER_PHRASES = (
    # English: Microsoft 365, Google Workspace, Proofpoint and Mimecast gateways. "This
    # email" or "the message": a sentence about "the phishing mail" is not a banner.
    r"(?:(?:caution|warning|attention|notice|external(?: email| sender| message)?)\s?[:!-]?\s?)?"
    r"(?:this|the) (?:e-?mail|message) (?:has )?(?:originated|came|comes|was sent|is|arrived) "
    r"from (?:outside|an external)",
    r"you don'?t often (?:get|receive) (?:e-?mail|messages?) from",
    r"\[?(?:external|ext)(?: email| sender| message)?\]?\s?[:!]?$",
    r"external (?:email|sender|message)\s?[:!]",
    # German
    r"(?:achtung|vorsicht|warnung|hinweis)\s?[:!]?\s?.{0,60}(?:von außerhalb|von ausserhalb|"
    r"außerhalb der organisation|ausserhalb der organisation|externe[rnms]? "
    r"(?:e-?mail|absender|nachricht|quelle))",
    r"(?:diese|die) (?:e-?mail|nachricht) (?:stammt|kommt|wurde) .{0,40}"
    r"(?:außerhalb|ausserhalb|extern)",
    r"sie erhalten nicht (?:oft|häufig) e-?mails? von",
    r"\[?extern(?:e e-?mail)?\]?\s?[:!]?$",
    # French
    r"(?:attention|avertissement|prudence)\s?:?\s?.{0,60}(?:de l'extérieur|"
    r"d'un expéditeur externe|en dehors de (?:l'|votre |notre )organisation)",
    r"(?:ce|cet) (?:courriel|message|mail|e-?mail) (?:provient|est issu|vient) "
    r"(?:de l'extérieur|d'un expéditeur externe|de l'externe)",
    r"vous n'obtenez pas souvent d'e-?mails? (?:à partir|de la part) de",
    r"\[?externe\]?\s?[:!]?$",
    # Spanish
    r"(?:precaución|atención|advertencia)\s?:?\s?.{0,60}(?:fuera de la organización|"
    r"del exterior de|remitente externo)",
    r"este (?:correo|mensaje)(?: electrónico)? (?:se originó|procede|proviene) (?:de )?"
    r"(?:fuera|del exterior)",
    r"no suele recibir correos? electrónicos? de",
    # Italian
    r"(?:attenzione|avviso)\s?:?\s?.{0,60}(?:dall'esterno|mittente estern|"
    r"esterno all'organizzazione|al di fuori dell'organizzazione)",
    r"non ricevi spesso messaggi di posta elettronica da",
    r"\[?(?:esterno|externo)\]?\s?[:!]?$",
    # Dutch
    r"(?:let op|waarschuwing|opgelet)\s?:?\s?.{0,60}(?:van buiten de organisatie|"
    r"externe afzender|buiten de organisatie)",
    r"u ontvangt niet vaak e-?mail van",
    # Portuguese
    r"(?:atenção|aviso|cuidado)\s?:?\s?.{0,60}(?:fora da organização|fora da sua organização|"
    r"remetente externo)",
    r"você não recebe (?:e-?mails? )?com frequência de",
)
BANNER_LINE = re.compile(rf"^\W{{0,3}}(?:{'|'.join(_BANNER_PHRASES)})", re.IGNORECASE)
# What the rest of a banner paragraph talks about.
BANNER_CONTINUATION = LowerCasePattern(
    r"click|links?|attachments?|sender|safe|content|recogni[sz]e|trust|learn why|important|"
    r"anhänge|anhang|absender|inhalt|sicher|vertrauen|pièces jointes|liens|expéditeur|"
    r"enlaces|adjuntos|remitente|allegati|collegamenti|mittente|bijlagen|koppelingen|"
    r"afzender|anexos|remetente|organi[sz]ation|organisatie|organización|organizzazione"
)

# --- Imprint lines -------------------------------------------------------------------------------

_IMPRINT_PATTERNS = (
    # Germany, Austria, Switzerland
    r"\bsitz(?: der gesellschaft)?\s?:",
    r"\bsitz der gesellschaft\b",
    r"\b(?:registergericht|handelsregister|firmenbuch(?:gericht)?)\b",
    r"\bamtsgericht\s[^\W\d_][\w.-]{1,30}(?:\s[^\W\d_][\w.-]{1,30})?\s?,?\s?(?:hr[ab]|vr|pr|gnr)\b",
    r"\bhr[ab]\s?[-:.]?\s?\d{2,7}\b",
    r"\bfn\s?\d{3,7}\s?[a-z]\b",
    r"\b(?:vorstand|vorstände|geschäftsführ\w{0,8}|aufsichtsrat\w{0,16}|"
    r"vorsitzende[rn]? des aufsichtsrat\w{0,3}|managing directors?|"
    r"board of (?:directors|management)|directeur général|gérant|amministratore delegato|"
    r"consejero delegado|directie|prokurist\w{0,2})\s?:",
    r"\b(?:ust\.?-?id\.?-?nr|ust-?idnr|umsatzsteuer-?id\w{0,8}|steuer-?nr|steuernummer|"
    r"wirtschafts-?id\w{0,8})\b",
    r"\buid(?:-nr\.?)?\s?:?\s?atu\d",
    r"\bche-?\d{3}\.\d{3}\.\d{3}\b",
    r"\b(?:stammkapital|grundkapital|capitale sociale|capital social|au capital de)\b",
    # VAT and company numbers elsewhere
    r"\bvat\s?(?:reg(?:istration)?\.?\s?)?(?:no\.?|number|id|nr\.?)?\s?:?\s?[a-z]{2}\s?\d",
    r"\b(?:tva intracommunautaire|n°\s?tva|numéro de tva)\b",
    r"\b(?:partita iva|p\.\s?iva|codice fiscale|registro (?:delle )?imprese|r\.e\.a\.)",
    r"\b(?:cif|nif|n\.i\.f\.|nipc|cnpj)\s?[:.]?\s?[a-z]?-?\d{5}",
    r"\bregistro mercantil\b",
    r"\b(?:kvk|kamer van koophandel|btw)(?:-?nummer|\s?nr\.?)?\s?[:.]?\s?(?:nl)?\d{6}",
    r"\b(?:nip|krs|regon)\s?[:.]?\s?\d{3}",
    r"\b(?:cvr|org\.?\s?nr\.?|organisationsnummer|organisasjonsnummer)\s?[:.]?\s?\d{4}",
    r"\b(?:siret|siren)\s?[:.]?\s?\d{3}",
    r"\brcs\s[^\W\d_][\w-]{1,30}(?:\s[ab])?\s\d{3}",
    r"\bcompany (?:registered|registration|reg\.?)\s(?:in|no|number)\b",
    r"\bregistered (?:in england|in scotland|office|company|number|no\.?)(?:\W|$)",
    r"\bcompany (?:no\.?|number)\s?:?\s?[a-z]{0,2}\d{5}",
)
IMPRINT_LINE = LowerCasePattern("|".join(_IMPRINT_PATTERNS))

# A street with a house number that ends the line or is followed by a comma, a
# bar or a postcode: "Friedrich-Ebert-Allee 140, 53113 Bonn", "Via Roma 12",
# "12 rue de la Paix", "221B Baker Street". Case-sensitive where a capital is
# what tells a street from prose ("exfiltrated via DNS 53" is not an address).
_AFTER_NUMBER = r"(?=\s?(?:$|[,;|/·•–]|-\s)|\s\d{4,5}\b|\s[A-Z]{1,3}-\d{4,5}\b)"
_STREET_PATTERNS = (
    # German, Swiss, Austrian, Dutch, Nordic compounds: "Hauptstraße 5a", "Keizersgracht 12"
    r"(?<=[^\W\d_]|-)(?i:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|"
    r"steig|pfad|markt|graben|kai|stieg|straat|laan|plein|gracht|kade|singel|dijk|gatan|vägen|"
    r"gade|vej|veien|gata)\s?\d{1,4}\s?[a-zA-Z]?" + _AFTER_NUMBER,
    # French: "12 rue de la Paix", "3, avenue Foch"
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s(?i:rue|avenue|av\.|boulevard|bd|place|quai|chemin|allée|"
    r"impasse|cours|route|square)\s(?:de|du|des|d'|la|le|l'|[A-ZÀ-Ý])",
    # Italian, Spanish, Portuguese: "Via Roma 12", "Calle Mayor, 5", "Rua Augusta, nº 5"
    r"\b(?:Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|V\.le|P\.zza|Calle|C/|Avenida|Avda\.?|"
    r"Av\.|Plaza|Paseo|Carrera|Camino|Ronda|Rua|Travessa|Praça|Alameda)\s?"
    r"[A-ZÀ-Ýa-z][\w.' ]{1,40}?,?\s(?:n[ºo°]\.?\s?)?\d{1,4}[a-zA-Z]?" + _AFTER_NUMBER,
    # English: "10 Downing Street", "221B Baker St."
    r"\b\d{1,5}[A-Za-z]?\s(?:[A-Z][\w.'-]{1,30}\s){1,3}(?:Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|"
    r"Lane|Ln\.?|Drive|Dr\.?|Boulevard|Blvd\.?|Square|Sq\.?|Court|Ct\.?|Place|Way|Row|Terrace)"
    r"(?=\s?(?:$|[,;|])|\.$)",
    # Polish: "ul. Marszałkowska 12"
    r"\bul\.\s?[A-ZŁŚŻŹĆŃÓ][\w.' -]{1,40}\s\d{1,4}",
    # Post office boxes
    r"(?i:\b(?:p\.?\s?o\.?\s?box|postfach|boîte postale|apartado de correos|casella postale|"
    r"postbus|caixa postal)\s?\d{1,6})",
)
STREET_ADDRESS = re.compile("|".join(_STREET_PATTERNS))
# A postcode and a city, alone on their line: "53113 Bonn", "D-53113 Bonn",
# "75008 Paris, France", "1017 AB Amsterdam", "00-950 Warszawa", "1000-001 Lisboa",
# "SW1A 2AA London". Only an address next to other contact lines (a port list
# "8443 HTTPS" is not).
POSTCODE_CITY = re.compile(
    r"^(?:(?P<country>[A-Z]{1,3})\s?-\s?)?"
    r"(?:\d{4,5}|\d{4}\s?[A-Z]{2}|\d{2}-\d{3}|\d{4}-\d{3}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})"
    r"\s(?P<city>[^\W\d_][\w.'()-]{0,40}(?:\s[^\W\d_][\w.'()-]{0,40}){0,3})"
    r"(?:\s?,\s?(?P<country_name>[^\W\d_][\w ]{1,30}))?$"
)

# --- Contact lines (what makes the block after a closing a signature) ----------------------------

PHONE_LINE = re.compile(
    r"(?:^|\b)(?i:tel|tél|phone|fon|telefon|téléphone|teléfono|telefono|telefone|tlf|mob|"
    r"mobile|mobil|handy|cell|portable|móvil|cellulare|gsm|fax|telefax|direct|office|desk|"
    r"ph|[tmfpod])\b\.?\s?[:.]?\s?\+?\(?\d[\d ()/.-]{5,30}"
    r"|(?:^|\s)\+\d{1,3}[ (./-]{0,3}\d[\d ()/.-]{5,30}"
    r"|^\(?0\d{1,5}\)?[ /.-]{0,3}\d{3,}[\d /.-]{0,12}$"
)
URL_OR_EMAIL = LowerCasePattern(
    r"https?://|\bwww\.[\w-]|\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+|"
    r"\b[\w-]{2,63}\.(?:com|net|org|eu|de|fr|es|it|nl|pt|pl|se|dk|no|fi|at|ch|be|lu|uk|ie|"
    r"gr|cz|sk|hu|ro|bg|hr|si|ee|lv|lt|io|example)\b"
)
SOCIAL_LINE = LowerCasePattern(
    r"\b(?:linkedin|twitter|x\.com|mastodon|xing|github|gitlab|keybase|signal|threema|wire|"
    r"skype|matrix|telegram|bluesky|instagram|facebook)\b|(?:^|\s)@[\w.]{2,30}(?:@[\w.-]{2,60})?$"
)
# What redaction leaves ("[participant]", "[phone]", "Participant B"): a block
# holding those held registry terms before.
PLACEHOLDER = re.compile(r"\[[a-z][a-z ]{1,40}\]|\bParticipant [A-Z]{1,3}\b")

# --- Key fingerprints and PGP armour -------------------------------------------------------------

KEY_FINGERPRINT_LINE = re.compile(
    r"^\W{0,3}(?:(?:pgp|gpg|gnupg|openpgp|s/mime)\s?)?(?:key\s?)?"
    r"(?:fingerprint|fpr|key\s?-?id|schlüssel(?:-?id)?|fingerabdruck|empreinte|huella|"
    r"impronta|vingerafdruk|impressão digital)"
    r"\s?[:=]?\s?(?:0x)?[0-9a-f]{4}(?:\s?[0-9a-f]{4}){1,9}\b"
    r"|^\W{0,3}(?:pgp|gpg|gnupg|openpgp)(?:\s?key)?(?:\s?id)?\s?[:=]\s?(?:0x)?[0-9a-f]{8,40}\b"
    r"|^(?:0x)?(?:[0-9a-f]{4}\s{1,2}){9}[0-9a-f]{4}$",
    re.IGNORECASE,
)

PGP_SIGNED_BEGIN = "-----BEGIN PGP SIGNED MESSAGE-----"
PGP_SIGNATURE_BEGIN = "-----BEGIN PGP SIGNATURE-----"
PGP_SIGNATURE_END = "-----END PGP SIGNATURE-----"
PGP_MESSAGE_BEGIN = "-----BEGIN PGP MESSAGE-----"
PGP_MESSAGE_END = "-----END PGP MESSAGE-----"
PGP_KEY_BEGIN = re.compile(r"^-----BEGIN PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----$")
PGP_KEY_END = re.compile(r"^-----END PGP (?:PUBLIC|PRIVATE) KEY BLOCK-----$")
# RFC 4880 §6.2 armour headers ("Hash: SHA256", "Version: GnuPG v2", "Comment: …").
PGP_ARMOUR_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,40}: ")
