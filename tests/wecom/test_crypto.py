"""The callback crypto against WeCom's published sample vectors, and our own round trips.

Vectors:
- WeCom's official callback sample (sbzhu/weworkapi_php, callback/Sample.php at
  f2c836f57187c5390546a70e99be54251c56a95c; the same values are in the C#/Java/Python
  WXBizMsgCrypt samples): token QDG6eK, corp id wx5823bf96d3bd56c7.
- wechatpy's work-crypto suite (wechatpy/wechatpy, tests/test_crypto.py): token 123456,
  corp id wx49f0ab532d5d035a, including an encryption with a fixed random prefix.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.wecom.crypto import CryptoError, ReceiveIdError, SignatureError, WeComCrypto
from bot.wecom.xmlmsg import parse_fields

OFFICIAL = WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                       "wx5823bf96d3bd56c7")
OFFICIAL_ECHO = ("P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE"
                 "7OaBO+FZXvnaqQ==")
OFFICIAL_MSG = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczc"
    "dCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLj"
    "vd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMn"
    "vw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k"
    "22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2Yoy"
    "yH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)

WECHATPY = WeComCrypto("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
                       "wx49f0ab532d5d035a")
WECHATPY_ECHO = ("4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7"
                 "hOchLF6p+Q==")
WECHATPY_REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
WECHATPY_REPLY_ENCRYPTED = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNc"
    "BqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY"
    "0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsV"
    "bwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAG"
    "VRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)


def test_the_official_url_verification_sample_verifies_and_decrypts():
    echo = OFFICIAL.verify_and_decrypt("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
                                       "1409659589", "263014780", OFFICIAL_ECHO)
    assert echo == b"1616140317555161061"


def test_the_official_encrypted_message_sample_verifies_and_decrypts():
    plain = OFFICIAL.verify_and_decrypt("477715d11cdb4164915debcba66cb864d751f3e6",
                                        "1409659813", "1372623149", OFFICIAL_MSG)
    fields = parse_fields(plain)
    assert fields["FromUserName"] == "mycreate" and fields["Content"] == "hello"
    assert fields["MsgType"] == "text" and fields["MsgId"] == "4561255354251345929"


def test_the_wechatpy_vectors_verify_and_decrypt():
    echo = WECHATPY.verify_and_decrypt("dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
                                       "1411443780", "437374425", WECHATPY_ECHO)
    assert echo.isdigit()
    plain = WECHATPY.decrypt(WECHATPY_REPLY_ENCRYPTED)
    assert plain == WECHATPY_REPLY.encode()


def test_our_encryption_matches_the_wechatpy_vector_byte_for_byte():
    encrypted = WECHATPY.encrypt(WECHATPY_REPLY.encode(), random_prefix=b"1234567890123456")
    assert encrypted == WECHATPY_REPLY_ENCRYPTED
    assert WECHATPY.sign("1411525903", "461056294", encrypted) == (
        "407518b7649e86ef23978113f92d27afa9296533")


def test_a_wrong_signature_is_refused():
    with pytest.raises(SignatureError):
        OFFICIAL.verify_and_decrypt("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd4",
                                    "1409659589", "263014780", OFFICIAL_ECHO)
    with pytest.raises(SignatureError):  # the signature covers the nonce too
        OFFICIAL.verify_and_decrypt("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
                                    "1409659589", "263014781", OFFICIAL_ECHO)


def test_a_message_for_another_corp_is_refused():
    other = WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwsomeoneelse")
    with pytest.raises(ReceiveIdError):
        other.decrypt(OFFICIAL_MSG)


@pytest.mark.parametrize("garbage", ["not base64!", "", "AAAA", OFFICIAL_ECHO[:-8] + "AAAAAA=="])
def test_garbage_ciphertext_is_a_crypto_error(garbage):
    with pytest.raises(CryptoError):
        OFFICIAL.decrypt(garbage)


def test_a_bad_aes_key_fails_fast_with_the_setting_name():
    with pytest.raises(ValueError, match="WECOM_AES_KEY"):
        WeComCrypto("t", "short", "corp")


@given(st.text())
def test_any_text_round_trips(text):
    crypto = WeComCrypto("tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wwcorp")
    encrypted = crypto.encrypt(text.encode())
    signature = crypto.sign("1700000000", "42", encrypted)
    assert crypto.verify_and_decrypt(signature, "1700000000", "42", encrypted) == text.encode()


@given(st.binary(max_size=4096), st.binary(min_size=16, max_size=16))
def test_any_length_round_trips_with_32_byte_padding(message, prefix):
    crypto = WeComCrypto("tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wwcorp")
    encrypted = crypto.encrypt(message, random_prefix=prefix)
    assert len(base64.b64decode(encrypted)) % 32 == 0
    assert crypto.decrypt(encrypted) == message
