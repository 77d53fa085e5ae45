"""Phones: codes sent by SMS or voice, and the verified phone as a backup credential."""
