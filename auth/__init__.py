"""Who is calling: department systems by API key (stored hashed), or the public."""

from auth.keys import DEMO_SYSTEMS, DemoSystem, demo_key, hash_key
from auth.registry import KeyRegistry

__all__ = ["DEMO_SYSTEMS", "DemoSystem", "KeyRegistry", "demo_key", "hash_key"]
