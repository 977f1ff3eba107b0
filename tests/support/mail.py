"""Building and sending test mail with real clients."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib


def post(
    sender: str,
    to: str,
    subject: str = "Phishing wave against operators",
    body: str = "We see a phishing wave using evil-phish.example since 09:00 UTC.\n",
    *,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2024, 9, 3, 8, 1, 7, tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(domain="client.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


class SmtpReply(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text


async def send(
    port: int,
    message: EmailMessage | bytes,
    *,
    mail_from: str,
    recipients: list[str],
    host: str = "127.0.0.1",
) -> str:
    """Send with aiosmtplib; the final reply text, or SmtpReply for a refusal."""
    content = message if isinstance(message, bytes) else message.as_bytes()
    client = aiosmtplib.SMTP(hostname=host, port=port, timeout=30, start_tls=False)
    await client.connect()
    try:
        errors, reply = await client.sendmail(mail_from, recipients, content)
        if errors:
            first = next(iter(errors.values()))
            raise SmtpReply(first.code, first.message)
        return reply
    except aiosmtplib.SMTPRecipientsRefused as refused:
        first = refused.recipients[0]
        raise SmtpReply(first.code, first.message) from None
    except aiosmtplib.SMTPResponseException as error:
        raise SmtpReply(error.code, error.message) from None
    finally:
        if client.is_connected:
            await client.quit()
