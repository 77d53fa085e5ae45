"""License keys: issued per token of an order, redeemed once."""
