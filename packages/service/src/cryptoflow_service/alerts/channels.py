"""The delivery channels. Each sends one alert or raises `ChannelError` (retryable or not)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass

import httpx
from django.core.mail import send_mail

from cryptoflow_service.common.conf import service_config

alert_logger = logging.getLogger("cryptoflow_service.alerts.fired")


class ChannelError(Exception):
    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str
    email_to: str


def send_log(message: Message) -> None:
    alert_logger.warning("ALERT %s | %s", message.subject, message.text)


def send_email(message: Message) -> None:
    if not message.email_to:
        raise ChannelError(
            "no recipient: the rule has no email_to and its owner no e-mail address", retryable=False
        )
    try:
        send_mail(message.subject, message.text, None, [message.email_to], fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"SMTP: {type(exc).__name__}: {exc}") from exc


def send_slack(message: Message) -> None:
    config = service_config()
    if not config.slack_webhook_url:
        raise ChannelError("CRYPTOFLOW_SERVICE_SLACK_WEBHOOK_URL is not set", retryable=False)
    try:
        response = httpx.post(
            config.slack_webhook_url,
            json={"text": f"*{message.subject}*\n{message.text}"},
            timeout=config.slack_timeout_s,
        )
    except httpx.HTTPError as exc:
        raise ChannelError(f"Slack webhook: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 300:
        # 4xx other than 429 means the webhook or payload is wrong: retrying will not help.
        retryable = response.status_code >= 500 or response.status_code == 429
        raise ChannelError(
            f"Slack webhook answered HTTP {response.status_code}: {response.text[:200]}", retryable=retryable
        )


SENDERS = {"log": send_log, "email": send_email, "slack": send_slack}
