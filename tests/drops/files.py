"""Files as departments deliver them, written in a test's folder: social insurance
contributions (human resources) as CSV, marriage registrations (civil affairs) as
XLSX."""

from __future__ import annotations

import csv
import datetime
import decimal
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

CONTRIBUTION_HEADER = (
    "record_number",
    "person_id_number",
    "person_name",
    "employer_credit_code",
    "insurance_type",
    "contribution_month",
    "contribution_base",
    "personal_contribution",
    "monthly_wage",
    "payment_status",
)
"""By column name; `in_chinese` gives the items' Chinese names instead."""
CHINESE = (
    "缴费记录编号",
    "参保人公民身份号码",
    "参保人姓名",
    "参保单位统一社会信用代码",
    "险种",
    "费款所属期",
    "缴费基数（元）",
    "个人缴费金额（元）",
    "月工资收入（元）",
    "缴费状态",
)


def contribution(number: int, status: str = "正常缴费") -> tuple[str, ...]:
    """One month's contribution of one person; `status` marks the file it came from."""
    return (
        f"SB2026{number:08d}",
        f"41058119900307{number % 10000:04d}",
        f"参保人{number}",
        "91410581MA44B8R21X",
        "城镇职工基本养老保险",
        "2026-11",
        f"{4000 + number}.50",
        f"{320 + number % 100}.04",
        "9999.99",
        status,
    )


def contributions(count: int, status: str = "正常缴费") -> list[tuple[str, ...]]:
    return [contribution(number, status) for number in range(1, count + 1)]


def write_csv(
    path: Path,
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] = CONTRIBUTION_HEADER,
    encoding: str = "utf-8-sig",
) -> Path:
    """As Excel saves "CSV UTF-8" (with a byte-order mark), or in another encoding."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


REGISTRATION_HEADER = (
    "登记编号",
    "登记类型",
    "登记日期（年月日）",
    "登记机关",
    "男方公民身份号码",
    "男方姓名",
    "女方公民身份号码",
    "女方姓名",
    "婚姻登记证字号",
)
"""The civil affairs bureau's own export: its date column named its own way."""


def registration(number: int) -> list[Any]:
    return [
        f"J4105812026{number:07d}",
        "结婚登记",
        datetime.datetime(2026, 11, number % 28 + 1),  # Excel's dates are datetimes
        "林州市民政局婚姻登记处",
        f"41058119900101{number:04d}",
        f"男方{number}",
        f"41058119920202{number:04d}",
        f"女方{number}",
        f"J410581-2026-{number:06d}",
    ]


def write_xlsx(
    path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str], sheet: str
) -> Path:
    workbook = Workbook(write_only=True)
    workbook.create_sheet("说明").append(["本文件由民政局婚姻登记处导出"])
    records = workbook.create_sheet(sheet)
    records.append(list(header))
    for row in rows:
        records.append(list(row))
    workbook.save(path)
    return path


def money(text: str) -> decimal.Decimal:
    return decimal.Decimal(text)
