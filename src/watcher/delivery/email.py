"""Email digests over SMTP: multipart plain text + HTML, STARTTLS or implicit TLS.

smtplib is blocking, so each send runs in a worker thread. The Message-ID is
made from the digest id, so a digest sent again after a crash carries the
same id and mail clients can tell it is the same message.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from watcher.config.channels import ChannelConfig, EmailSettings
from watcher.delivery.digest import Digest, Rendered, one_line
from watcher.errors import DeliveryError
from watcher.sources.http import Fetcher

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 60.0  # seconds for the connection and each SMTP command


def message(digest: Digest, rendered: Rendered, settings: EmailSettings) -> EmailMessage:
    """The digest as a MIME message; header values never carry line breaks."""
    mail = EmailMessage()
    mail["Subject"] = one_line(rendered.subject)
    mail["From"] = settings.sender
    mail["To"] = ", ".join(settings.to)
    mail["Date"] = format_datetime(datetime.fromisoformat(digest.created_at))
    domain = settings.sender.rpartition("@")[2]
    mail["Message-ID"] = f"<{digest.id}@{domain}>"
    mail["X-Watcher-Digest"] = digest.id
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    return mail


class EmailSender:
    def __init__(self, channel: ChannelConfig, fetcher: Fetcher) -> None:
        assert isinstance(channel.settings, EmailSettings)
        self.settings = channel.settings

    async def send(self, digest: Digest, rendered: Rendered) -> None:
        mail = message(digest, rendered, self.settings)
        await asyncio.to_thread(self._send, mail)

    def _send(self, mail: EmailMessage) -> None:
        settings = self.settings
        where = f"smtp://{settings.host}:{settings.port}"
        try:
            context = ssl.create_default_context(
                cafile=str(settings.ca_file) if settings.ca_file else None
            )
            if settings.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=SMTP_TIMEOUT, context=context
                )
            else:
                client = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
            with client:
                if settings.security == "starttls":
                    client.starttls(context=context)
                if settings.username and settings.password:
                    client.login(settings.username, settings.password.reveal())
                refused = client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"{where}: every recipient refused: {_codes(exc.recipients)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error
            if isinstance(text, bytes):
                text = text.decode(errors="replace")
            raise DeliveryError(f"{where}: {exc.smtp_code} {one_line(text)}") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__}: {one_line(str(exc))}") from None
        if refused:
            # Accepted for the others: marking it sent keeps them from getting it twice.
            log.warning("%s: some recipients refused: %s", where, _codes(refused))


def _codes(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{address} ({code})" for address, (code, _) in recipients.items())
