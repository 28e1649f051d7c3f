"""Amazon SNS message signatures, which anymail does not check (its SES view says "Future:
verify SNS message signature"), verified with ``cryptography`` as AWS documents:

* the signing certificate must come over HTTPS from ``sns.<SES_REGION>.amazonaws.com``;
* the signature (SignatureVersion 1: SHA1, 2: SHA256, RSA PKCS#1 v1.5) must verify over the
  canonical string of the message's fields for its type;
* the TopicArn must be SES_TOPIC_ARN, so another AWS account's topic pointed at our URL (whose
  messages AWS signs just as well) is refused too.

Certificates are fetched once per URL per process.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_FIELDS["UnsubscribeConfirmation"] = _FIELDS["SubscriptionConfirmation"]
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


class SnsError(Exception):
    """The message is not a genuine SNS message for our topic."""


def string_to_sign(message: dict[str, Any]) -> bytes:
    fields = _FIELDS.get(str(message.get("Type")))
    if fields is None:
        raise SnsError(f"unknown SNS message type {message.get('Type')!r}")
    lines = []
    for name in fields:
        if name in message and message[name] is not None:
            lines += [name, str(message[name])]
        elif name != "Subject":
            raise SnsError(f"SNS message without {name}")
    return ("\n".join(lines) + "\n").encode()


def _aws_url(url: Any, region: str, *, suffix: str = "") -> str:
    """``url`` if it is https on sns.<region>.amazonaws.com (and its path ends in ``suffix``)."""
    parts = urlsplit(str(url or ""))
    host = f"sns.{region}.amazonaws.com"
    if parts.scheme != "https" or parts.hostname != host or parts.port not in (None, 443):
        raise SnsError(f"SNS URL {url!r} is not on https://{host}/")
    if not parts.path.endswith(suffix):
        raise SnsError(f"SNS URL {url!r} is not a {suffix} file")
    return str(url)


@functools.lru_cache(maxsize=16)
def certificate(url: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(download(url))


def download(url: str) -> bytes:
    """GET ``url`` (already checked to be on the region's SNS host)."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        return bytes(response.read())


def verify(message: Any, *, region: str, topic_arn: str) -> None:
    """Raise :class:`SnsError` unless ``message`` is signed by SNS and is for ``topic_arn``."""
    if not isinstance(message, dict):
        raise SnsError("SNS message is not a JSON object")
    if message.get("TopicArn") != topic_arn:
        raise SnsError(f"SNS topic {message.get('TopicArn')!r} is not SES_TOPIC_ARN")
    algorithm = _HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise SnsError(f"unknown SNS SignatureVersion {message.get('SignatureVersion')!r}")
    url = _aws_url(message.get("SigningCertURL"), region, suffix=".pem")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except binascii.Error:
        raise SnsError("SNS signature is not base64") from None
    try:
        key = certificate(url).public_key()
    except (OSError, ValueError) as error:
        raise SnsError(f"SNS certificate {url} could not be loaded: {error}") from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnsError("SNS certificate does not hold an RSA key")
    try:
        key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise SnsError("SNS signature does not verify") from None


def confirm_subscription(message: dict[str, Any], *, region: str) -> None:
    """Confirm a verified SubscriptionConfirmation by visiting its SubscribeURL."""
    url = _aws_url(message.get("SubscribeURL"), region)
    download(url)
    logger.info("Confirmed the SNS subscription to %s", message.get("TopicArn"))
