"""WeCom callback crypto: the msg_signature and the AES-256-CBC message envelope.

    signature = sha1("".join(sorted([token, timestamp, nonce, encrypt]))), hex
    key       = base64(EncodingAESKey + "="), 32 bytes; IV = key[:16]
    plaintext = 16 random bytes | 4-byte big-endian length | message | receive id
    padding   = PKCS#7 to 32-byte blocks (WeCom's choice, not AES's 16)

AES and the padding come from `cryptography`; nothing here is hand-rolled but the framing.

Exception tree:

    CryptoError            the envelope cannot be trusted (bad base64, padding, framing)
    ├── SignatureError     msg_signature does not match
    └── ReceiveIdError     decrypted fine but for another corp (receive id)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_BITS = 32 * 8  # WeCom pads to 32-byte blocks
_RANDOM_BYTES = 16
_LEN = struct.Struct(">I")


class CryptoError(Exception):
    pass


class SignatureError(CryptoError):
    pass


class ReceiveIdError(CryptoError):
    pass


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The msg_signature WeCom puts on a callback (and we put on our own test callbacks)."""
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode()).hexdigest()


def decode_aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("WECOM_AES_KEY is not a valid EncodingAESKey") from exc
    if len(key) != 32:
        raise ValueError("WECOM_AES_KEY must be 43 characters (32 bytes once decoded)")
    return key


class WeComCrypto:
    """Verify, decrypt and encrypt callback payloads for one app (token, key, corp id)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        self.receive_id = receive_id.encode()
        self._key = decode_aes_key(encoding_aes_key)

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return signature(self.token, timestamp, nonce, encrypt)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = self.sign(timestamp, nonce, encrypt)
        # Constant time: the signature is the only thing between the internet and the desk.
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode()):
            raise SignatureError("msg_signature mismatch")

    def decrypt(self, encrypt: str) -> bytes:
        """The message inside `encrypt`; the receive id must be ours."""
        plain = self._unpad(self._aes_decrypt(encrypt))
        if len(plain) < _RANDOM_BYTES + _LEN.size:
            raise CryptoError("envelope too short")
        (length,) = _LEN.unpack_from(plain, _RANDOM_BYTES)
        start = _RANDOM_BYTES + _LEN.size
        if start + length > len(plain):
            raise CryptoError("length field beyond the envelope")
        if not hmac.compare_digest(plain[start + length:], self.receive_id):
            raise ReceiveIdError("receive id mismatch")
        return plain[start:start + length]

    def verify_and_decrypt(
        self, msg_signature: str, timestamp: str, nonce: str, encrypt: str
    ) -> bytes:
        self.verify(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def encrypt(self, message: bytes, random_prefix: bytes | None = None) -> str:
        """Envelope `message` for our receive id; `random_prefix` is fixed only in tests."""
        prefix = os.urandom(_RANDOM_BYTES) if random_prefix is None else random_prefix
        if len(prefix) != _RANDOM_BYTES:
            raise ValueError("random prefix must be 16 bytes")
        framed = prefix + _LEN.pack(len(message)) + message + self.receive_id
        padder = padding.PKCS7(BLOCK_BITS).padder()
        padded = padder.update(framed) + padder.finalize()
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(padded) + enc.finalize()).decode()

    def _aes_decrypt(self, encrypt: str) -> bytes:
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("encrypt is not base64") from exc
        if not raw or len(raw) % 16:
            raise CryptoError("ciphertext is not whole AES blocks")
        dec = self._cipher().decryptor()
        return dec.update(raw) + dec.finalize()

    @staticmethod
    def _unpad(padded: bytes) -> bytes:
        unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError as exc:
            raise CryptoError("bad padding") from exc

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))
