"""Where things are in 林州市: postal addresses and parcel boundaries."""

from __future__ import annotations

import math
from random import Random

from demo import words

# Roughly the built-up part of the county, in CGCS2000 degrees.
_CENTRE_LON, _CENTRE_LAT = 113.82, 36.07
_METRES_PER_DEGREE = 111_320.0


def township(rng: Random) -> tuple[int, str]:
    """A township and its number, which doubles as the 地籍区 number of its parcels."""
    name = words.TOWNSHIPS.pick(rng)
    return words.TOWNSHIPS.values.index(name) + 1, name


def address(rng: Random, place: str, *, dwelling: bool = False) -> str:
    """A 河南省林州市 address; towns by street number, villages by house number."""
    if place.endswith("街道"):
        street = f"{rng.choice(words.STREETS)}{rng.randint(1, 400)}号"
        if dwelling:
            street += f"{rng.randint(1, 24)}号楼{rng.randint(1, 4)}单元{_room(rng)}号"
    else:
        street = f"{rng.choice(words.VILLAGES)}村{rng.randint(1, 260)}号"
    return f"河南省林州市{place}{street}"


def parcel_location(rng: Random, place: str) -> str:
    """A 坐落 as land registers word it: a road or village and the side of it."""
    if place.endswith("街道"):
        anchor = rng.choice(words.STREETS)
    else:
        anchor = rng.choice(words.VILLAGES) + "村"
    return f"林州市{place}{anchor}{rng.choice(words.SIDES)}"


def boundary_wkt(rng: Random, area: float) -> str:
    """A closed, counter-clockwise rectangle of about `area` square metres, as WKT."""
    lon = _CENTRE_LON + rng.uniform(-0.12, 0.12)
    lat = _CENTRE_LAT + rng.uniform(-0.10, 0.10)
    aspect = rng.uniform(0.5, 2.0)
    height = math.sqrt(area / aspect) / _METRES_PER_DEGREE
    width = math.sqrt(area * aspect) / (_METRES_PER_DEGREE * math.cos(math.radians(lat)))
    corners = [(lon, lat), (lon + width, lat), (lon + width, lat + height), (lon, lat + height)]
    ring = ", ".join(f"{x:.7f} {y:.7f}" for x, y in [*corners, corners[0]])
    return f"POLYGON(({ring}))"


def _room(rng: Random) -> str:
    return f"{rng.randint(1, 18)}0{rng.randint(1, 4)}"
