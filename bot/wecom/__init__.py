"""The WeCom (企业微信) channel: callback crypto, message API client, pacing, adapter."""

from bot.wecom.adapter import WeComAdapter

__all__ = ["WeComAdapter"]
