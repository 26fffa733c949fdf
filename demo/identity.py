"""Identifiers and names that carry their own check rules, so the demo passes real validators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from random import Random

from stdnum.cn import ric, uscc

from demo import words

# County codes by era (valid up to and including the year), as stdnum's region table dates
# them: an ID number keeps the code its holder was registered under at birth.
_LINZHOU = (("412121", 1983), ("410521", 1994), ("410581", 9999))  # 林县 → 林州市
_COUNTIES = words.Weighted(
    {
        _LINZHOU: 85,
        (("412122", 1983), ("410522", 9999)): 5,  # 安阳县
        (("412123", 1983), ("410523", 9999)): 3,  # 汤阴县
        (("410500", 1983), ("410502", 9999)): 3,  # 文峰区
        (("410500", 1983), ("410504", 2002), ("410505", 9999)): 2,  # 铁西区 → 殷都区
        (("410500", 1983), ("410511", 2002), ("410506", 9999)): 2,  # 郊区 → 龙安区
    }
)

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Codes issued by the unified registration system since the 2015 reform start with "MA".
_MA_CODES_SINCE = date(2015, 10, 1)


def unique(taken: set[str], draw: Callable[[], str]) -> str:
    """Draw until the value is new: codes are primary keys."""
    value = draw()
    while value in taken:
        value = draw()
    taken.add(value)
    return value


def resident_id_number(rng: Random, birth: date, male: bool) -> str:
    """GB 11643: region, birth date, sequence whose last digit is odd for men, check digit."""
    region = next(code for code, last in _COUNTIES.pick(rng) if birth.year <= last)
    sequence = rng.randrange(1, 500) * 2 - (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def linzhou_code(year: int) -> str:
    """The county's region code in that year, as documents issued then carry it."""
    return next(code for code, last in _LINZHOU if year <= last)


def marriage_certificate_number(prefix: str, day: date, sequence: int) -> str:
    """婚姻登记证字号: J (结婚), L (离婚), BJ/BL (补发), region code, year, yearly sequence."""
    return f"{prefix}{linzhou_code(day.year)}-{day.year}-{sequence:06d}"


def marriage_registration_number(rng: Random) -> str:
    """The registry system's record number: county and twelve random digits. The key is
    shared unconditionally while the registration date is not, so the number neither
    contains the date nor runs in date order (a sequence would tell who married first)."""
    return f"410581{rng.randrange(10**12):012d}"


def contribution_record_number(month: date, sequence: int) -> str:
    """The insurance system's record number: county, month, monthly sequence."""
    return f"410581{month:%Y%m}{sequence:07d}"


def credit_code(rng: Random, established: date) -> str:
    """GB 32100 code of an enterprise (91) registered in 林州市, around its organisation code."""
    body = "91410581" + organisation_code(rng, modern=established >= _MA_CODES_SINCE)
    return body + uscc.calc_check_digit(body)


def organisation_code(rng: Random, *, modern: bool) -> str:
    """GB 11714 code: eight characters and a mod-11 check character of its own."""
    if modern:
        body = "MA" + "".join(rng.choice(_USCC_ALPHABET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(int(char, 36) * w for char, w in zip(body, _ORGANISATION_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def person_name(rng: Random, male: bool) -> str:
    """A surname and a one- or two-character given name in keeping with the gender."""
    pool = words.MALE_GIVEN if male else words.FEMALE_GIVEN
    given = rng.sample(pool, 1 if rng.random() < 0.3 else 2)
    return words.SURNAMES.pick(rng) + "".join(given)


def enterprise_name(rng: Random, industry: str, suffix: str) -> str:
    """林州市 + 字号 (trade name) + 行业 (industry) + organisational form."""
    trade_name = "".join(rng.sample(words.TRADE_NAME_CHARS, 2 if rng.random() < 0.8 else 3))
    return "林州市" + trade_name + industry + suffix


def mobile_number(rng: Random) -> str:
    return rng.choice(words.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline_number(rng: Random) -> str:
    """An Anyang (0372) fixed line, which enterprises list more often than people do."""
    return f"0372-{rng.choice('3568')}{rng.randrange(10**6):06d}"


def parcel_code(rng: Random, district: int) -> str:
    """19-character 宗地代码: county, 地籍区 + 地籍子区, GB (国有建设用地使用权), sequence."""
    return f"410581{district:03d}{rng.randint(1, 12):03d}GB{rng.randint(1, 99999):05d}"


def licence_number(rng: Random, licence_type: str, holder_id_number: str, issued: date) -> str:
    """The number printed on the licence, in the format its issuer uses."""
    match licence_type:
        case "居民身份证":
            return holder_id_number
        case "机动车驾驶证":  # 档案编号: issuing 车管所 region + serial
            return f"4105{rng.randrange(10**8):08d}"
        case "不动产权证书":
            return f"豫({issued.year})林州市不动产权第{rng.randrange(1, 10**7):07d}号"
        case "出生医学证明":
            return f"{rng.choice('NOPQRT')}41{rng.randrange(10**7):07d}"
        case _:  # 资格证书: year + region + serial
            return f"{issued.year}4105812{rng.randrange(10**6):06d}"


def file_id(rng: Random) -> str:
    """A 64-hex digest-shaped handle of the licence file in the licence store."""
    return f"{rng.getrandbits(256):064x}"


def bank_account(rng: Random) -> str:
    """A 19-digit settlement account number."""
    return rng.choice(("4105", "1624", "2504", "4110")) + f"{rng.randrange(10**15):015d}"
