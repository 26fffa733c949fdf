"""Seeded synthetic data for the demo department databases, and the files of the demo's
file-drop department; no real person appears in it."""

from __future__ import annotations

from demo.generate import generate_demo_city, generate_demo_data, generator_version
from demo.world import DemoScale

__all__ = ["DemoScale", "generate_demo_city", "generate_demo_data", "generator_version"]
