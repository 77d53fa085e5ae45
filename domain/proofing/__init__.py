"""Identity proofing: attempts, video appointments and activation codes."""
