"""E-mail over SMTP through Django's mail backends (``WORKBENCH_CHANNEL_EMAIL_BACKEND``,
the SMTP backend unless configured otherwise; host and port are Django's ``EMAIL_*``).

The Message-ID we set is the message's external id, so a bounce or a receipt that quotes
it finds the message. SMTP's own codes decide what a failure is: a 5xx reply to the
sender or a recipient is permanent, a 4xx reply, a refused or dropped connection or a
timeout is transient.
"""

from __future__ import annotations

import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.forms import ValidationError
from django.utils.translation import gettext as _

from .base import PermanentError, SendResult, TransientError


def _smtp_error(exc: smtplib.SMTPException) -> Exception:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in exc.recipients.values()]
        text = _("The mail server refused the recipient (SMTP %(codes)s).") % {"codes": ", ".join(map(str, codes))}
        return TransientError(text) if codes and all(400 <= c < 500 for c in codes) else PermanentError(text)
    code = getattr(exc, "smtp_code", None)
    if isinstance(code, int):
        text = _("The mail server answered SMTP %(code)s.") % {"code": code}
        return PermanentError(text) if code >= 500 else TransientError(text)
    return TransientError(_("The mail server closed the connection."))


class SmtpAdapter:
    name = "smtp"

    def send(self, message) -> SendResult:
        try:
            validate_email(message.recipient)
        except ValidationError:
            raise PermanentError(_("The recipient is not an e-mail address.")) from None
        sender = settings.WORKBENCH_CHANNEL_EMAIL_FROM
        message_id = make_msgid(idstring=str(message.pk), domain=sender.rpartition("@")[2] or None)
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=sender,
            to=[message.recipient],
            headers={"Message-ID": message_id, "X-Workbench-Message-Key": message.key},
            connection=get_connection(settings.WORKBENCH_CHANNEL_EMAIL_BACKEND, fail_silently=False),
        )
        try:
            email.send()
        except smtplib.SMTPException as exc:
            raise _smtp_error(exc) from exc
        except (TimeoutError, OSError) as exc:
            raise TransientError(_("The mail server could not be reached.")) from exc
        return SendResult(external_id=message_id.strip("<>"))
