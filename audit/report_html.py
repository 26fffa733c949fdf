"""The subject access report as a printable page in Chinese: one self-contained HTML
document (styles inline, no script, no outside asset), so it prints or is handed over
as a file the same anywhere, with no network.

Times are shown in Asia/Shanghai; the subject's identifier is shown with its middle
hidden, as a page that is printed travels further than the auditor's screen.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from html import escape
from zoneinfo import ZoneInfo

from audit.subject_report import AccessGroup, GrantCited, SubjectReport

SHANGHAI = ZoneInfo("Asia/Shanghai")
PURPOSES = {
    "administrative_basis": "行政依据",
    "work_reference": "工作参考",
    "data_verification": "数据校核",
    "business_collaboration": "业务协同",
}
OUTCOMES = {
    "served": "已提供",
    "partial": "部分提供",
    "refused": "拒绝",
    "invalid": "请求无效",
    "failed": "失败",
}
_STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif;
       margin: 2em; color: #111; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
p.meta { color: #444; margin: 0.2em 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; font-size: 0.9em; }
th, td { border: 1px solid #888; padding: 0.3em 0.5em; vertical-align: top; text-align: left; }
th { background: #eee; }
@media print { body { margin: 1cm; } th { background: none; } }
"""


def hidden_middle(identifier: str) -> str:
    return identifier[:6] + "*" * (len(identifier) - 10) + identifier[-4:]


def shanghai(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def report_html(report: SubjectReport) -> str:
    span = (
        f"{shanghai(report.occurred_from) if report.occurred_from else '日志起始'} 至 "
        f"{shanghai(report.occurred_until) if report.occurred_until else '报告生成时'}"
    )
    rows = "\n".join(_row(group) for group in report.groups) or (
        '<tr><td colspan="9">期间内没有访问该数据主体信息的记录。</td></tr>'
    )
    incomplete = (
        ""
        if report.complete
        else '<p class="meta"><strong>记录过多，本报告仅列出最近的部分记录；'
        "请缩短时间范围。</strong></p>"
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>数据主体访问报告</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>数据主体访问报告</h1>
<p class="meta">数据主体标识：{escape(hidden_middle(report.subject))}</p>
<p class="meta">统计期间（北京时间）：{escape(span)}</p>
<p class="meta">生成时间（北京时间）：{shanghai(report.made_at)}；访问共 {report.total} 次，\
按使用部门和使用用途分 {len(report.groups)} 组。</p>
{incomplete}
<table>
<thead><tr><th>使用部门</th><th>系统</th><th>使用用途</th><th>次数</th>\
<th>首次 / 最近访问</th><th>信息资源与信息项</th><th>授权及批准依据</th>\
<th>案件或文书编号</th><th>经办人 / 结果</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<p class="meta">依据《林州市政务信息资源共享管理实施办法》第十一条，\
使用部门应按申明的用途使用共享信息。本报告由共享平台审计日志生成，日志以哈希链防篡改。</p>
</body>
</html>
"""


def _row(group: AccessGroup) -> str:
    department = group.department_name or group.department or "公众（未认证）"
    if group.department_name and group.department:
        department = f"{group.department_name}<br><small>{escape(group.department)}</small>"
    else:
        department = escape(department)
    purpose = PURPOSES.get(group.purpose or "", group.purpose or "未申明")
    outcomes = "、".join(OUTCOMES.get(o, o) for o in sorted(group.outcomes))
    what = sorted(group.resources)
    if group.items:
        what.append("信息项：" + "、".join(sorted(group.items)))
    cells = [
        department,
        escape(group.system or "—"),
        escape(purpose),
        str(group.count),
        f"{shanghai(group.first_at)}<br>{shanghai(group.last_at)}",
        _lines(what),
        _lines(_grant(grant) for grant in group.grants) or "按目录无条件共享或规则",
        _lines(sorted(group.references)) or "—",
        _lines([*sorted(group.persons), outcomes]),
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _grant(grant: GrantCited) -> str:
    text = f"授权 {grant.id}"
    if grant.reference:
        text += f"（{grant.reference}）"
    if grant.valid_until is not None:
        text += f"，有效至 {shanghai(grant.valid_until)}"
    return text


def _lines(values: Iterable[str]) -> str:
    return "<br>".join(escape(value) for value in values if value)
