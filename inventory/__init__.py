"""The inventory of sources (Art. 16): per source, when it was last read and last
updated, how many department systems called it in the last 30 days, and how often its
reads failed; the sources neither read nor updated for a while are listed as candidates
for retirement ("zombie" systems), for the coordination office.

    python -m inventory [--json] [--idle-days N]
"""

from inventory.usage import SourceInventory, take_inventory

__all__ = ["SourceInventory", "take_inventory"]
