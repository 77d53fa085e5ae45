"""The domain's tables, gathered for migrations."""

from __future__ import annotations

from domain.ratelimit import AttemptCounter
from handlers.catalog import Product
from handlers.domain_models import (
    CardCharge,
    LicenseKey,
    OrderNumber,
    SalesOrder,
)
from handlers.lifecycle_models import PhoneOtp, RelyingApp, Renewal, TokenReplacement
from handlers.proofing_models import (
    ActivationCode,
    Credential,
    PhoneCode,
    PhoneCredential,
    ProofingAttempt,
    VideoAppointment,
)
from handlers.shipping_models import Shipment, TrackingEvent
from handlers.tokens.models import HardwareToken

__all__ = [
    "ActivationCode",
    "AttemptCounter",
    "CardCharge",
    "Credential",
    "HardwareToken",
    "LicenseKey",
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
    "VideoAppointment",
]
