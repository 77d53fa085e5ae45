"""Sales orders: their numbers, card charges, and the order's rules."""
