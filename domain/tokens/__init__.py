"""Hardware token inventory: PSKC import, seeds sealed at rest, OTP verification."""
