"""`python -m demo --data-dir DIR`: one SQLite demo database per catalog source."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import yaml

from catalog import DepartmentCatalog
from demo import DemoScale, generate_demo_data

_CATALOG_DIR = Path(__file__).resolve().parent.parent / "catalog" / "departments"


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    departments = [
        DepartmentCatalog.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(_CATALOG_DIR.glob("*.yaml"))
    ]
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    urls = {d.source: f"sqlite:///{data_dir / d.source}.db" for d in departments}
    scale = DemoScale(persons=args.persons, enterprises=args.enterprises)
    generate_demo_data(departments, urls, seed=args.seed, scale=scale)
    for department in departments:
        print(data_dir / f"{department.source}.db")


def _parser() -> argparse.ArgumentParser:
    defaults = DemoScale()
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20201)
    parser.add_argument("--persons", type=int, default=defaults.persons)
    parser.add_argument("--enterprises", type=int, default=defaults.enterprises)
    return parser


if __name__ == "__main__":
    main()
