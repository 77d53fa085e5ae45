"""Every table of the domain, gathered for the schema and its migrations."""

from __future__ import annotations

from domain.accounts.models import GroupMember, KnownClient, LoginSession, User
from domain.catalog.models import Product
from domain.credentials.models import Credential, Renewal, TokenReplacement
from domain.license_keys.models import LicenseKey
from domain.orders.models import CardCharge, OrderNumber, SalesOrder
from domain.phone.models import PhoneCode, PhoneCredential, PhoneOtp
from domain.proofing.models import ActivationCode, ProofingAttempt, VideoAppointment
from domain.ratelimit import AttemptCounter
from domain.relying_apps.models import RelyingApp
from domain.shipping.models import Shipment, TrackingEvent
from domain.tokens.models import HardwareToken

__all__ = [
    "ActivationCode",
    "AttemptCounter",
    "CardCharge",
    "Credential",
    "GroupMember",
    "HardwareToken",
    "KnownClient",
    "LicenseKey",
    "LoginSession",
    "OrderNumber",
    "PhoneCode",
    "PhoneCredential",
    "PhoneOtp",
    "Product",
    "ProofingAttempt",
    "RelyingApp",
    "Renewal",
    "SalesOrder",
    "Shipment",
    "TokenReplacement",
    "TrackingEvent",
    "User",
    "VideoAppointment",
]
