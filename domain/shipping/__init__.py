"""Shipping: shipments of tokens and the carrier's tracking events."""
