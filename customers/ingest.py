"""Ingest of bank data: CSV/Excel files and the REST API share these row schemas.

Each kind of data (customers, holdings, snapshots, risk assessments, tags, interactions,
fund flows) has a schema of target fields. A file's columns are mapped onto those fields
(a mapping may be saved and reused), every row is validated into a clean dict or a list
of errors (line, column, value, message in the user's language), and clean rows are
upserted by their external key in chunks:

- customers by ``customer_no`` (PostgreSQL: COPY into a temporary table, then one
  ``INSERT .. ON CONFLICT DO UPDATE .. WHERE (..) IS DISTINCT FROM (..)``, so a re-import
  touches nothing);
- holdings, interactions and fund flows by ``external_id``; snapshots by (customer,
  date); risk assessments by (customer, assessed_at); customer tags by (customer, tag).

A chunk is written in one transaction; if the database still rejects it, the chunk is
retried row by row, each in its own savepoint, so a bad row is reported and never leaves
half of itself behind, and the good rows are kept.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import openpyxl
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg.types.json import Jsonb  # the COPY path of PostgreSQL (psycopg is always installed)

from core.middleware import CONTROL_CHARACTERS
from core.models import JobChunk
from core.services import job_set_progress
from core.templatetags.formatting import cny
from org import models as org_models

from . import models as m
from .services.interactions import _validate_transcript, interaction_record

MAX_STORED_ERRORS = 10_000


def control_char_message(value: str) -> str | None:
    """A message naming the first forbidden control character in ``value``, or None."""
    found = CONTROL_CHARACTERS.search(value)
    if found is None:
        return None
    return _("Contains a control character (U+%(code)04X) at position %(pos)d; remove it and upload again.") % {
        "code": ord(found.group()),
        "pos": found.start() + 1,
    }


def printable(value: str) -> str:
    """``value`` for a report: control characters shown as U+XXXX, so the report saves."""
    return CONTROL_CHARACTERS.sub(lambda c: f"<U+{ord(c.group()):04X}>", value)


class RowError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- value parsers (raise RowError with a translated message) ---------------------------------


def p_text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise RowError(_("Longer than %(n)s characters.") % {"n": max_length})
        return value

    return parse


def p_mobile(value: str) -> str:
    mobile = m.mobile_normalized(value)
    if mobile is None:
        raise RowError(_("Not a mobile number (11 digits starting with 1, such as 13812345678)."))
    return mobile


def p_id_number(value: str) -> str:
    id_number = m.id_number_normalized(value)
    if id_number is None:
        raise RowError(_("Not a resident ID number (17 digits and a digit or X, or 15 digits)."))
    return id_number


def p_decimal(value: str) -> Decimal:
    cleaned = value.replace(",", "").replace("，", "").replace("¥", "").strip()
    try:
        d = Decimal(cleaned)
    except InvalidOperation:
        raise RowError(_("Not a number.")) from None
    if not d.is_finite() or abs(d) >= Decimal("1e16"):
        raise RowError(_("Not a number."))
    return d.quantize(Decimal("0.01"))


def p_amount(value: str) -> Decimal:
    d = p_decimal(value)
    if d < 0:
        raise RowError(_("Must not be negative."))
    return d


def p_date(value: str) -> dt.date:
    v = value.strip().replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{8}", v):
        v = f"{v[:4]}-{v[4:6]}-{v[6:]}"
    try:
        d = parse_date(v[:10]) if len(v) >= 10 else parse_date(v)
    except ValueError:
        d = None
    if d is None:
        raise RowError(_("Not a date (expected YYYY-MM-DD)."))
    return d


def p_datetime(value: str) -> dt.datetime:
    v = value.strip().replace("/", "-")
    try:
        parsed = parse_datetime(v)
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            day = p_date(v)
        except RowError:
            raise RowError(_("Not a date and time (expected YYYY-MM-DD HH:MM).")) from None
        parsed = dt.datetime.combine(day, dt.time(0, 0))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # the bank's files are in local time
    return parsed


def p_choice(choices: type, aliases: dict[str, str] | None = None) -> Callable[[str], str]:
    values = {str(v).lower(): v for v in choices.values}
    extra = {k.lower(): v for k, v in (aliases or {}).items()}

    def parse(value: str):
        key = value.strip().lower()
        for table in (values, extra):
            if key in table:
                return table[key]
        # Labels in the active language (rarely needed, so built only on a miss).
        labels = {str(label).lower(): v for v, label in choices.choices}
        if key in labels:
            return labels[key]
        with_labels = ", ".join(str(v) for v in choices.values)
        raise RowError(_("Unknown value; expected one of: %(values)s.") % {"values": with_labels})

    return parse


def p_level(prefix: str) -> Callable[[str], int]:
    def parse(value: str) -> int:
        v = value.strip().upper().removeprefix(prefix)
        if v not in {"1", "2", "3", "4", "5"}:
            raise RowError(_("Must be %(p)s1 to %(p)s5.") % {"p": prefix})
        return int(v)

    return parse


def p_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "y", "是", "t"}:
        return True
    if v in {"0", "false", "no", "n", "否", "f"}:
        return False
    raise RowError(_("Expected yes or no."))


def p_score(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise RowError(_("Not a number.")) from None


def p_json_list(value: str) -> list:
    try:
        data = json.loads(value)
    except ValueError:
        raise RowError(_("Not valid JSON.")) from None
    if not isinstance(data, list):
        raise RowError(_("Must be a JSON list."))
    return data


def p_intents(value: str) -> list[str]:
    v = value.strip()
    if v.startswith("["):
        return [str(x) for x in p_json_list(v)]
    return [x.strip() for x in re.split(r"[,;，；|]", v) if x.strip()]


GENDER_ALIASES = {"男": "M", "女": "F", "male": "M", "female": "F", "未知": "U"}
TOUCH_KIND_ALIASES = {
    "无": "",
    "none": "",
    "主题交流": "themed",
    "主题互动": "themed",
    "资产配置检视": "review",
    "资产配置回顾": "review",
    "财富报告": "report",
    "财富管理报告": "report",
}
# A video call counts as face to face (12-4-2-1); a branch visit is in person by default.
MEETING_ALIASES = {"否": "", "no": "", "面谈": "in_person", "面对面": "in_person", "视频": "video", "视频通话": "video"}
FLOW_CHANNEL_ALIASES = {
    "跨行转账": "transfer",
    "转账": "transfer",
    "代发工资": "salary",
    "工资": "salary",
    "现金": "cash",
    "第三方支付": "payment",
    "其他": "other",
}
LIFECYCLE_ALIASES = {"新客": "new", "成长": "growing", "成熟": "mature", "衰退": "declining", "沉睡": "dormant"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: object  # lazy translated
    parse: Callable[[str], object]
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass
class Schema:
    kind: str
    fields: list[FieldSpec]
    key: tuple[str, ...]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


def _f(name, label, parse, required=False, *aliases):
    return FieldSpec(name, label, parse, required, aliases)


SCHEMAS: dict[str, Schema] = {
    m.ImportKind.CUSTOMERS: Schema(
        m.ImportKind.CUSTOMERS,
        [
            _f("customer_no", gettext_lazy("customer number"), p_text(32), True, "客户号", "客户编号", "cust_no"),
            _f("name", gettext_lazy("customer name"), p_text(50), True, "name", "姓名", "客户姓名"),
            _f("gender", gettext_lazy("gender"), p_choice(m.Gender, GENDER_ALIASES), False, "性别"),
            _f("birth_date", gettext_lazy("birth date"), p_date, False, "出生日期"),
            _f("mobile", gettext_lazy("mobile"), p_mobile, False, "手机号", "手机"),
            _f("id_number", gettext_lazy("ID number"), p_id_number, False, "证件号", "身份证号"),
            _f("city", gettext_lazy("city"), p_text(50), False, "城市"),
            _f("occupation", gettext_lazy("occupation"), p_text(50), False, "职业"),
            _f("education", gettext_lazy("education"), p_text(50), False, "学历"),
            _f("marital_status", gettext_lazy("marital status"), p_text(20), False, "婚姻状况"),
            _f("aum", gettext_lazy("AUM"), p_amount, False, "金融资产", "aum余额", "资产"),
            _f("home_branch", gettext_lazy("home branch code"), p_text(16), False, "归属网点", "网点号", "branch"),
            _f("owner", gettext_lazy("owner advisor (employee number)"), p_text(150), False, "客户经理", "工号"),
            _f(
                "lifecycle_stage",
                gettext_lazy("lifecycle stage"),
                p_choice(m.LifecycleStage, LIFECYCLE_ALIASES),
                False,
                "生命周期",
            ),
        ],
        ("customer_no",),
    ),
    m.ImportKind.HOLDINGS: Schema(
        m.ImportKind.HOLDINGS,
        [
            _f("external_id", gettext_lazy("holding id"), p_text(64), True, "持仓编号", "持仓id"),
            _f("customer_no", gettext_lazy("customer number"), p_text(32), True, "客户号"),
            _f("product_code", gettext_lazy("product code"), p_text(32), True, "产品代码"),
            _f("amount", gettext_lazy("amount"), p_amount, True, "持有金额", "金额"),
            _f("opened_on", gettext_lazy("opened on"), p_date, True, "起息日", "购买日"),
            _f("maturity_date", gettext_lazy("maturity date"), p_date, False, "到期日"),
        ],
        ("external_id",),
    ),
    m.ImportKind.SNAPSHOTS: Schema(
        m.ImportKind.SNAPSHOTS,
        [
            _f("customer_no", gettext_lazy("customer number"), p_text(32), True, "客户号"),
            _f("date", gettext_lazy("date"), p_date, True, "日期", "统计日期"),
            _f("aum", gettext_lazy("AUM"), p_amount, True, "金融资产"),
            _f("deposits", gettext_lazy("deposits"), p_amount, False, "存款"),
            _f("wealth", gettext_lazy("wealth products"), p_amount, False, "理财"),
            _f("funds", gettext_lazy("funds"), p_amount, False, "基金"),
            _f("insurance", gettext_lazy("insurance"), p_amount, False, "保险"),
            _f("other", gettext_lazy("other"), p_amount, False, "其他"),
        ],
        ("customer_no", "date"),
    ),
    m.ImportKind.RISK_ASSESSMENTS: Schema(
        m.ImportKind.RISK_ASSESSMENTS,
        [
            _f("customer_no", gettext_lazy("customer number"), p_text(32), True, "客户号"),
            _f("level", gettext_lazy("risk level"), p_level("C"), True, "风险等级", "风评等级"),
            _f("assessed_at", gettext_lazy("assessed at"), p_datetime, True, "测评时间", "测评日期"),
            _f(
                "channel",
                gettext_lazy("channel"),
                p_choice(m.AssessmentChannel, {"柜面": "branch", "手机银行": "mobile", "网银": "online"}),
                True,
                "渠道",
            ),
            _f("completed_by_customer", gettext_lazy("completed by the customer"), p_bool, False, "本人完成"),
        ],
        ("customer_no", "assessed_at"),
    ),
    m.ImportKind.TAGS: Schema(
        m.ImportKind.TAGS,
        [
            _f("customer_no", gettext_lazy("customer number"), p_text(32), True, "客户号"),
            _f("tag_code", gettext_lazy("tag code"), p_text(50), True, "标签代码", "标签"),
            _f(
                "source",
                gettext_lazy("source"),
                p_choice(m.TagSource, {"规则": "rule", "模型": "model"}),
                False,
                "来源",
            ),
            _f("score", gettext_lazy("score"), p_score, False, "分值", "权重"),
            _f("assigned_at", gettext_lazy("assigned at"), p_datetime, False, "打标时间"),
        ],
        ("customer_no", "tag_code"),
    ),
    m.ImportKind.INTERACTIONS: Schema(
        m.ImportKind.INTERACTIONS,
        [
            _f("external_id", gettext_lazy("interaction id"), p_text(64), True, "会话id", "流水号", "session_id"),
            _f("customer_no", gettext_lazy("customer number"), p_text(32), True, "客户号"),
            _f(
                "channel",
                gettext_lazy("channel"),
                p_choice(
                    m.Channel,
                    {
                        "电话": "phone",
                        "短信": "sms",
                        "微信": "wechat",
                        "智能外呼": "ai_bot",
                        "网点到访": "branch_visit",
                    },
                ),
                True,
                "渠道",
            ),
            _f(
                "direction",
                gettext_lazy("direction"),
                p_choice(m.Direction, {"呼出": "out", "呼入": "in"}),
                False,
                "方向",
            ),
            _f("occurred_at", gettext_lazy("occurred at"), p_datetime, True, "时间", "发生时间"),
            _f("summary", gettext_lazy("summary"), p_text(5000), False, "摘要", "小结"),
            _f("transcript", gettext_lazy("transcript (JSON turns)"), p_json_list, False, "对话记录"),
            _f("intents", gettext_lazy("detected intents"), p_intents, False, "意图"),
            _f(
                "touch_kind",
                gettext_lazy("kind of touch"),
                p_choice(m.TouchKind, TOUCH_KIND_ALIASES),
                False,
                "触达类型",
                "服务类型",
            ),
            _f("meeting", gettext_lazy("face to face"), p_choice(m.Meeting, MEETING_ALIASES), False, "见面方式"),
        ],
        ("external_id",),
    ),
    m.ImportKind.FLOWS: Schema(
        m.ImportKind.FLOWS,
        [
            _f("external_id", gettext_lazy("transaction id"), p_text(64), True, "交易流水号", "流水号"),
            _f("customer_no", gettext_lazy("customer number"), p_text(32), True, "客户号"),
            _f(
                "direction",
                gettext_lazy("direction"),
                p_choice(m.FlowDirection, {"流入": "in", "转入": "in", "流出": "out", "转出": "out"}),
                True,
                "方向",
                "资金方向",
            ),
            _f("amount", gettext_lazy("amount"), p_amount, True, "金额", "交易金额"),
            _f("occurred_at", gettext_lazy("occurred at"), p_datetime, True, "交易时间", "时间"),
            _f("channel", gettext_lazy("channel"), p_choice(m.FlowChannel, FLOW_CHANNEL_ALIASES), False, "渠道"),
        ],
        ("external_id",),
    ),
}


def schema_for(kind: str) -> Schema:
    return SCHEMAS[kind]


def guess_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """Target field -> header, matched on the field name, its labels or known aliases."""
    normal = {h.strip().lower(): h for h in headers if h}
    mapping = {}
    for spec in schema_for(kind).fields:
        candidates = [spec.name, str(spec.label), *spec.aliases]
        for c in candidates:
            if c.lower() in normal:
                mapping[spec.name] = normal[c.lower()]
                break
    return mapping


# --- reading files ------------------------------------------------------------------------------


def decode_lines(raw: io.BufferedIOBase) -> Iterator[str]:
    head = raw.read(65536)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the probe is still UTF-8.
        if exc.start < len(head) - 4:
            encoding = "gb18030"  # Excel on Chinese Windows saves CSV in GBK
    decoder = codecs.getincrementaldecoder(encoding)()
    buffer = decoder.decode(head)
    while True:
        block = raw.read(1 << 20)
        if not block:
            buffer += decoder.decode(b"", final=True)
            break
        buffer += decoder.decode(block)
        *lines, buffer = buffer.split("\n")
        yield from (line + "\n" for line in lines)
    *lines, buffer = buffer.split("\n")
    yield from (line + "\n" for line in lines)
    if buffer:
        yield buffer


def read_table(fileobj, name: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """(headers, iterator of (line number, values)) for a CSV or an .xlsx file, streamed."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        wb = openpyxl.load_workbook(fileobj, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        headers = [str(h).strip() if h is not None else "" for h in next(rows, ())]

        def cell(v) -> str:
            if v is None:
                return ""
            if isinstance(v, dt.datetime):
                return v.isoformat(sep=" ")
            if isinstance(v, dt.date):
                return v.isoformat()
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        def it():
            for n, row in enumerate(rows, start=2):
                values = [cell(v) for v in row]
                if any(values):
                    yield n, values
            wb.close()

        return headers, it()
    reader = csv.reader(decode_lines(fileobj))
    headers = [h.strip() for h in next(reader, [])]

    def it_csv():
        for values in reader:
            if any(v.strip() for v in values):
                yield reader.line_num, values

    return headers, it_csv()


# --- validation --------------------------------------------------------------------------------


@dataclass
class RowResult:
    line: int
    data: dict | None
    errors: list[dict] = field(default_factory=list)


def clean_row(schema: Schema, line: int, raw: dict[str, str], columns: dict[str, str]) -> RowResult:
    """Parse one row; ``raw`` maps field name -> text. Errors name the file's column."""
    data: dict = {}
    errors = []
    for spec in schema.fields:
        value = (raw.get(spec.name) or "").strip()
        column = columns.get(spec.name, spec.name)
        if not value:
            if spec.required:
                errors.append({"line": line, "column": column, "value": "", "message": _("This field is required.")})
            continue
        bad = control_char_message(value)
        if bad:
            errors.append({"line": line, "column": column, "value": printable(value[:100]), "message": bad})
            continue
        try:
            data[spec.name] = spec.parse(value)
        except RowError as exc:
            errors.append({"line": line, "column": column, "value": value[:100], "message": exc.message})
    return RowResult(line, None if errors else data, errors)


def row_plan(schema: Schema, headers: list[str], columns: dict[str, str]) -> list[tuple]:
    """Per field: (name, parser, required, file column, index in the row or None)."""
    index = {h: i for i, h in enumerate(headers)}
    return [
        (spec.name, spec.parse, spec.required, columns.get(spec.name, spec.name), index.get(columns.get(spec.name)))
        for spec in schema.fields
    ]


def clean_values(plan: list[tuple], line: int, values: list[str], width: int | None = None) -> RowResult:
    """clean_row for a file row, without building a dict per row (the import's hot loop).

    ``width`` is the number of columns in the header: a row with fewer fields, or with
    more fields that are not empty, is rejected (its columns would not line up)."""
    data: dict = {}
    errors: list[dict] = []
    n = len(values)
    if width is not None and (n < width or (n > width and any(v.strip() for v in values[width:]))):
        message = _("This row has %(n)d fields but the header has %(width)d: check for a missing or extra separator.")
        errors.append({"line": line, "column": "", "value": "", "message": message % {"n": n, "width": width}})
        return RowResult(line, None, errors)
    for name, parse, required, column, i in plan:
        value = values[i].strip() if i is not None and i < n else ""
        if not value:
            if required:
                errors.append({"line": line, "column": column, "value": "", "message": _("This field is required.")})
            continue
        if CONTROL_CHARACTERS.search(value):
            message = control_char_message(value)
            errors.append({"line": line, "column": column, "value": printable(value[:100]), "message": message})
            continue
        try:
            data[name] = parse(value)
        except RowError as exc:
            errors.append({"line": line, "column": column, "value": value[:100], "message": exc.message})
    return RowResult(line, None if errors else data, errors)


class DuplicateKeys:
    """Rejects a row whose key (a customer number, a holding id, ...) came earlier in the
    same file: which of the two rows should win is the bank's call, not ours."""

    def __init__(self, schema: Schema, columns: dict[str, str]) -> None:
        self.key = schema.key
        self.column = columns.get(schema.key[0], schema.key[0])
        self.first: dict[tuple, int] = {}

    def check(self, r: RowResult) -> None:
        if r.data is None:
            return
        key = tuple(r.data.get(k) for k in self.key)
        first = self.first.setdefault(key, r.line)
        if first != r.line:
            r.errors.append(duplicate_error(r.line, self.column, key[0], first))
            r.data = None


def duplicate_error(line: int, column: str, key, first: int) -> dict:
    """The error of a row whose key came earlier in the file, on line ``first``."""
    return {
        "line": line,
        "column": column,
        "value": printable(str(key)[:100]),
        "message": _("Appears again in this file (first on line %(line)d); keep one of the rows.") % {"line": first},
    }


class Lookups:
    """Reference data resolved per chunk: customers, products, tags, branches, staff."""

    def __init__(self) -> None:
        self.branches = dict(org_models.Branch.objects.values_list("code", "id"))
        self.products = dict(m.Product.objects.values_list("code", "id"))
        self.tags = dict(m.Tag.objects.values_list("code", "id"))
        staff = org_models.StaffProfile.objects.values_list("employee_no", "user__username", "user_id")
        self.owners = {}
        for employee_no, username, user_id in staff:
            self.owners[employee_no] = user_id
            self.owners[username] = user_id

    @staticmethod
    def customers(numbers) -> dict[str, int]:
        return dict(m.Customer.objects.filter(customer_no__in=set(numbers)).values_list("customer_no", "id"))


# A customer's references to other tables, and the error when the code is unknown.
CUSTOMER_REFERENCE_ERRORS = {
    "home_branch": gettext_lazy("No branch with this code."),
    "owner": gettext_lazy("No staff member with this employee number."),
}

SNAPSHOT_PARTS = ("deposits", "wealth", "funds", "insurance", "other")
# Rounding of the parts in a source system: a cent per part.
SNAPSHOT_TOLERANCE = Decimal("0.05")


def resolve(schema: Schema, rows: list[RowResult], lookups: Lookups, columns: dict[str, str]) -> None:
    """Turn codes into ids; a row whose references are unknown gets an error instead."""
    need_customer = schema.kind != m.ImportKind.CUSTOMERS
    customer_ids = Lookups.customers(r.data["customer_no"] for r in rows if r.data) if need_customer else {}

    def fail(r: RowResult, name: str, value, message: str) -> None:
        r.errors.append({"line": r.line, "column": columns.get(name, name), "value": str(value), "message": message})

    for r in rows:
        if r.data is None:
            continue
        d = r.data
        if need_customer:
            cid = customer_ids.get(d["customer_no"])
            if cid is None:
                fail(r, "customer_no", d["customer_no"], _("No customer with this number."))
            d["customer_id"] = cid
        if schema.kind == m.ImportKind.CUSTOMERS:
            if "home_branch" in d:
                d["home_branch_id"] = lookups.branches.get(d["home_branch"])
                if d["home_branch_id"] is None:
                    fail(r, "home_branch", d["home_branch"], str(CUSTOMER_REFERENCE_ERRORS["home_branch"]))
            if "owner" in d:
                d["owner_id"] = lookups.owners.get(d["owner"])
                if d["owner_id"] is None:
                    fail(r, "owner", d["owner"], str(CUSTOMER_REFERENCE_ERRORS["owner"]))
        elif schema.kind == m.ImportKind.HOLDINGS:
            d["product_id"] = lookups.products.get(d["product_code"])
            if d["product_id"] is None:
                fail(r, "product_code", d["product_code"], _("No product with this code."))
            if d.get("maturity_date") and d["maturity_date"] < d["opened_on"]:
                fail(r, "maturity_date", d["maturity_date"], _("The maturity date is before the opening date."))
        elif schema.kind == m.ImportKind.SNAPSHOTS:
            # The structure is one picture with the AUM: its parts, where given, add up to it.
            parts = [d[k] for k in SNAPSHOT_PARTS if d.get(k) is not None]
            if parts and abs(sum(parts, Decimal("0")) - d["aum"]) > SNAPSHOT_TOLERANCE:
                fail(
                    r,
                    "aum",
                    d["aum"],
                    _("Deposits, wealth products, funds, insurance and other add up to %(sum)s, not to the AUM.")
                    % {"sum": cny(sum(parts, Decimal("0")))},
                )
        elif schema.kind == m.ImportKind.FLOWS and d["amount"] == 0:
            # A flow of nothing is no flow: the bank's file would count it as a transaction.
            fail(r, "amount", d["amount"], _("Must be more than zero."))
        elif schema.kind == m.ImportKind.TAGS:
            d["tag_id"] = lookups.tags.get(d["tag_code"])
            if d["tag_id"] is None:
                fail(r, "tag_code", d["tag_code"], _("No tag with this code."))
        elif schema.kind == m.ImportKind.INTERACTIONS and d.get("transcript") is not None:
            try:
                d["transcript"] = _validate_transcript(d["transcript"])
            except Exception as exc:  # noqa: BLE001 - a ValidationError with a translated message
                fail(r, "transcript", "", "; ".join(getattr(exc, "messages", [str(exc)])))
        if r.errors:
            r.data = None


# --- writing ----------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


CUSTOMER_COLUMNS = [
    "customer_no",
    "name",
    "gender",
    "birth_date",
    "mobile",
    "mobile_last4",
    "id_number",
    "id_last4",
    "city",
    "occupation",
    "education",
    "marital_status",
    "aum",
    "tier",
    "home_branch_id",
    "owner_id",
    "lifecycle_stage",
]
# What an empty cell means for each column (nullable columns take NULL, text columns "").
CUSTOMER_EMPTY = {
    "gender": m.Gender.UNKNOWN,
    "aum": Decimal("0.00"),
    "lifecycle_stage": m.LifecycleStage.NEW,
    "tier": m.Tier.LONG_TAIL,  # follows aum (0 when the file has no AUM column)
    "birth_date": None,
    "home_branch_id": None,
    "owner_id": None,
}


def _customer_values(d: dict) -> dict:
    """Column values of a customer row; derived columns follow their source column.

    Columns that are not mapped at all are left alone on update (see ``present``)."""
    v = {c: d.get(c, CUSTOMER_EMPTY.get(c, "")) for c in CUSTOMER_COLUMNS}
    v.update(m.derived_columns(mobile=v["mobile"], id_number=v["id_number"], aum=v["aum"]))
    return v


# A mapped field also sets the columns that follow it.
CUSTOMER_FOLLOWERS = {
    "mobile": "mobile_last4",
    "id_number": "id_last4",
    "aum": "tier",
    "home_branch": "home_branch_id",
    "owner": "owner_id",
}


def customer_present(present: set[str]) -> set[str]:
    """The customer columns a file with these mapped fields writes (the others are left alone)."""
    return set(present) | {CUSTOMER_FOLLOWERS[f] for f in present if f in CUSTOMER_FOLLOWERS}


def customer_updatable(cols: list[str]) -> list[str]:
    """The columns an import may change on a known customer: the mapped ones but its key."""
    return [c for c in cols if c != "customer_no"]


def customer_on_conflict(cols: list[str]) -> str:
    """The ``ON CONFLICT`` clause of a customer upsert writing ``cols``: a known customer
    takes the mapped columns (and a new ``updated_at``) only if one of them differs, so an
    unchanged customer is neither written nor locked. Both PostgreSQL paths use it."""
    table = m.Customer._meta.db_table
    updatable = customer_updatable(cols)
    set_clause = ", ".join([*(f"{c} = EXCLUDED.{c}" for c in updatable), "updated_at = EXCLUDED.updated_at"])
    differ = (
        f"({', '.join(f'{table}.{c}' for c in updatable)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{c}' for c in updatable)})"
    )
    return f"ON CONFLICT (customer_no) DO UPDATE SET {set_clause} WHERE {differ}"


def _upsert_customers_pg(rows: list[dict], present: set[str]) -> Counts:
    """New customers are COPied straight into the table; known ones go through a temp
    table and one INSERT .. ON CONFLICT that only touches rows that really differ.
    Columns absent from the file are left alone on update.

    A customer created by someone else between the existence check and the COPY makes the
    COPY fail on the unique key; write_rows then retries the chunk row by row, and each
    row takes the ON CONFLICT path.
    """
    cols = [c for c in CUSTOMER_COLUMNS if c in present]
    table = m.Customer._meta.db_table
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT customer_no FROM {table} WHERE customer_no = ANY(%s)",  # noqa: S608
            [[r["customer_no"] for r in rows]],
        )
        known = {row[0] for row in cur.fetchall()}
    new_rows = [r for r in rows if r["customer_no"] not in known]
    created = 0
    if new_rows:
        unmapped = [c for c in CUSTOMER_COLUMNS if c not in cols]
        copy_cols = [*cols, *unmapped, "attributes", "created_at", "updated_at"]
        tail = [*(CUSTOMER_EMPTY.get(c, "") for c in unmapped), Jsonb({}), now, now]
        with connection.connection.cursor() as pc, pc.copy(f"COPY {table} ({', '.join(copy_cols)}) FROM STDIN") as copy:
            for r in new_rows:
                copy.write_row([*(r[c] for c in cols), *tail])
        created = len(new_rows)
    rows = [r for r in rows if r["customer_no"] in known]
    if not rows:
        return Counts(created=created)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS import_customers")
        cur.execute(
            f"CREATE TEMP TABLE import_customers ON COMMIT DROP AS "  # noqa: S608 - identifiers from the model
            f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM {table} WITH NO DATA"
        )
        raw = connection.connection
        with raw.cursor() as pc, pc.copy(f"COPY import_customers ({', '.join(cols)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r[c] for c in cols])
        # Unmapped columns get their empty value on insert and are not touched on update.
        unmapped = [c for c in CUSTOMER_COLUMNS if c not in cols and CUSTOMER_EMPTY.get(c, "") is not None]
        insert_cols = [*cols, *unmapped, "attributes", "created_at", "updated_at"]
        params: dict = {"now": now}
        select = list(cols)
        for c in unmapped:
            params[f"empty_{c}"] = CUSTOMER_EMPTY.get(c, "")
            select.append(f"%(empty_{c})s")
        select += ["'{}'::jsonb", "%(now)s", "%(now)s"]
        # Identifiers come from the model and CUSTOMER_COLUMNS, never from the file.
        sql = (
            f"INSERT INTO {table} ({', '.join(insert_cols)}) "  # noqa: S608
            f"SELECT {', '.join(select)} FROM import_customers {customer_on_conflict(cols)} RETURNING (xmax = 0)"
        )
        cur.execute(sql, params)
        flags = [row[0] for row in cur.fetchall()]
        cur.execute("DROP TABLE import_customers")
    inserted = sum(1 for f in flags if f)
    updated = len(flags) - inserted
    return Counts(created=created + inserted, updated=updated, unchanged=len(rows) - len(flags))


def _upsert_generic(
    model,
    rows: list[dict],
    key_of: Callable[[object], tuple],
    row_key: Callable[[dict], tuple],
    existing_q,
    fields,
    create_fields=(),
) -> Counts:
    """Fetch the chunk's existing rows by key, create the new ones, update changed ones."""
    counts = Counts()
    existing = {key_of(obj): obj for obj in model.objects.filter(existing_q)}
    to_create, to_update = [], []
    seen: dict[tuple, dict] = {}
    for d in rows:
        seen[row_key(d)] = d  # the last row of a key in a chunk wins
    for key, d in seen.items():
        obj = existing.get(key)
        if obj is None:
            to_create.append(model(**{f: d[f] for f in (*fields, *create_fields) if f in d}))
            continue
        changed = [f for f in fields if f in d and getattr(obj, f) != d[f]]
        if changed:
            for f in changed:
                setattr(obj, f, d[f])
            to_update.append(obj)
        else:
            counts.unchanged += 1
    counts.unchanged += len(rows) - len(seen)
    model.objects.bulk_create(to_create, batch_size=1000)
    update_fields = [f for f in fields if f not in ("customer_id",)]
    if to_update:
        model.objects.bulk_update(to_update, update_fields, batch_size=1000)
    counts.created, counts.updated = len(to_create), len(to_update)
    return counts


def _sync_customer_risk(customer_ids) -> None:
    """Keep Customer.risk_level/risk_assessed_at on the latest assessment."""
    latest = m.RiskAssessment.objects.filter(customer_id__in=customer_ids).order_by(
        "customer_id", "-assessed_at", "-id"
    )
    if connection.vendor == "postgresql":
        latest = latest.distinct("customer_id")
    done = set()
    changed = []
    for a in latest.only("customer_id", "level", "assessed_at"):
        if a.customer_id in done:
            continue
        done.add(a.customer_id)
        changed.append((a.customer_id, a.level, a.assessed_at))
    # One statement for the chunk, not one UPDATE per customer.
    stale = [m.Customer(pk=cid, risk_level=level, risk_assessed_at=at) for cid, level, at in changed]
    m.Customer.objects.bulk_update(stale, ["risk_level", "risk_assessed_at"], batch_size=2000)


def write_chunk(schema: Schema, rows: list[dict], present: set[str], *, actor) -> Counts:
    kind = schema.kind
    if kind == m.ImportKind.CUSTOMERS:
        values = [_customer_values(d) for d in rows]
        dedup = {v["customer_no"]: v for v in values}
        present = customer_present(present)
        if connection.vendor == "postgresql":
            c = _upsert_customers_pg(list(dedup.values()), present)
            c.unchanged += len(values) - len(dedup)
            return c
        fields = [f for f in CUSTOMER_COLUMNS if f in present or f == "customer_no"]
        c = _upsert_generic(
            m.Customer,
            [{k: v[k] for k in fields if k in v} for v in dedup.values()],
            lambda o: (o.customer_no,),
            lambda d: (d["customer_no"],),
            Q(customer_no__in=list(dedup)),
            fields,
        )
        c.unchanged += len(values) - len(dedup)
        return c
    if kind == m.ImportKind.HOLDINGS:
        fields = ["external_id", "customer_id", "product_id", "amount", "opened_on", "maturity_date"]
        for d in rows:
            d.setdefault("maturity_date", None)
        return _upsert_generic(
            m.Holding,
            rows,
            lambda o: (o.external_id,),
            lambda d: (d["external_id"],),
            Q(external_id__in=[d["external_id"] for d in rows]),
            fields,
        )
    if kind == m.ImportKind.SNAPSHOTS:
        fields = ["customer_id", "date", "aum", "deposits", "wealth", "funds", "insurance", "other"]
        for d in rows:
            for f in fields[3:]:
                d.setdefault(f, Decimal("0.00"))
        return _upsert_generic(
            m.AssetSnapshot,
            rows,
            lambda o: (o.customer_id, o.date),
            lambda d: (d["customer_id"], d["date"]),
            Q(customer_id__in={d["customer_id"] for d in rows}, date__in={d["date"] for d in rows}),
            fields,
        )
    if kind == m.ImportKind.RISK_ASSESSMENTS:
        fields = ["customer_id", "level", "assessed_at", "channel", "completed_by_customer"]
        for d in rows:
            d.setdefault("completed_by_customer", True)
        c = _upsert_generic(
            m.RiskAssessment,
            rows,
            lambda o: (o.customer_id, o.assessed_at),
            lambda d: (d["customer_id"], d["assessed_at"]),
            Q(customer_id__in={d["customer_id"] for d in rows}, assessed_at__in={d["assessed_at"] for d in rows}),
            fields,
        )
        _sync_customer_risk({d["customer_id"] for d in rows})
        return c
    if kind == m.ImportKind.TAGS:
        now = timezone.now()
        for d in rows:
            d.setdefault("source", m.TagSource.RULE)
            d.setdefault("score", None)
            d.setdefault("assigned_at", now)  # only used when the tag is new
        return _upsert_generic(
            m.CustomerTag,
            rows,
            lambda o: (o.customer_id, o.tag_id),
            lambda d: (d["customer_id"], d["tag_id"]),
            Q(customer_id__in={d["customer_id"] for d in rows}, tag_id__in={d["tag_id"] for d in rows}),
            ["customer_id", "tag_id", "source", "score"],
            create_fields=("assigned_at",),
        )
    if kind == m.ImportKind.FLOWS:
        for d in rows:
            d.setdefault("channel", m.FlowChannel.OTHER)
        return _upsert_generic(
            m.FundFlow,
            rows,
            lambda o: (o.external_id,),
            lambda d: (d["external_id"],),
            Q(external_id__in=[d["external_id"] for d in rows]),
            ["external_id", "customer_id", "direction", "amount", "occurred_at", "channel"],
        )
    if kind == m.ImportKind.INTERACTIONS:
        counts = Counts()
        customers = m.Customer.objects.in_bulk({d["customer_id"] for d in rows})
        for d in rows:
            _, created = interaction_record(
                actor=actor,
                customer=customers[d["customer_id"]],
                channel=d["channel"],
                direction=d.get("direction", m.Direction.OUTBOUND),
                occurred_at=d["occurred_at"],
                summary=d.get("summary", ""),
                transcript=d.get("transcript"),
                intents=d.get("intents"),
                external_id=d["external_id"],
                touch_kind=d.get("touch_kind", m.TouchKind.NONE),
                meeting=d.get("meeting"),
            )
            if created:
                counts.created += 1
            else:
                counts.unchanged += 1
        return counts
    raise ValueError(kind)


def write_rows(schema: Schema, rows: list[RowResult], present: set[str], columns: dict, *, actor, mark=None) -> Counts:
    """Write a chunk in one transaction; on a database error retry it row by row, each row
    in a savepoint, so each rejected row is reported and no row is ever half written.

    ``mark(counts)`` runs inside that transaction once the rows are written: the import
    records the chunk as done there, so a chunk is committed with its mark or not at all.
    """
    good = [r for r in rows if r.data is not None]
    try:
        with transaction.atomic():
            counts = write_chunk(schema, [dict(r.data) for r in good], present, actor=actor) if good else Counts()
            if mark is not None:
                mark(counts)
            return counts
    except (DatabaseError, ValueError):
        pass  # find the rows the database refuses, one by one
    counts = Counts()
    with transaction.atomic():
        for r in good:
            try:
                with transaction.atomic():
                    counts.add(write_chunk(schema, [dict(r.data)], present, actor=actor))
            except (DatabaseError, ValueError) as exc:
                r.errors.append(
                    {
                        "line": r.line,
                        "column": "",
                        "value": "",
                        "message": _("The database rejected this row: %(error)s")
                        % {"error": printable(str(exc).splitlines()[0][:200])},
                    }
                )
                r.data = None
        if mark is not None:
            mark(counts)
    return counts


# --- running a batch (services.imports.import_batch_run) -------------------------------------


def count_rows(path: str, name: str) -> int:
    if name.lower().endswith((".xlsx", ".xlsm")):
        wb = openpyxl.load_workbook(path, read_only=True)
        n = max((wb.worksheets[0].max_row or 1) - 1, 0)
        wb.close()
        return n
    n = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            n += block.count(b"\n")
    return max(n - 1, 0)


def _preview_value(v) -> str:
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)[:80]
    return str(v)[:80]


def _close_after(delay: float) -> None:
    """Close this thread's connection (the short sleep lets every worker take one task)."""
    time.sleep(delay)
    connection.close()


IDENTITY_FIELDS = ("name", "id_number", "mobile", "birth_date", "gender")


def _masked(field_name: str, value) -> str:
    if value in (None, ""):
        return "—"
    value = str(value)
    if field_name == "name":
        return value[0] + "*" * (len(value) - 1)
    if field_name in ("mobile", "id_number"):
        return m.mask_middle(value, keep_start=3 if field_name == "mobile" else 4, keep_end=4)
    return value


def identity_changes(rows: list[RowResult], present: set[str], labels: dict[str, str]) -> tuple[int, list[dict]]:
    """For a dry run of customers: how many rows are new customers, and every change the
    import would make to an existing customer's name or identity fields (masked)."""
    numbers = [r.data["customer_no"] for r in rows if r.data is not None]
    fields = [f for f in IDENTITY_FIELDS if f in present]
    existing = {
        c["customer_no"]: c
        for c in m.Customer.objects.filter(customer_no__in=numbers).values("customer_no", *IDENTITY_FIELDS)
    }
    new = 0
    changes: list[dict] = []
    for r in rows:
        if r.data is None:
            continue
        before = existing.get(r.data["customer_no"])
        if before is None:
            new += 1
            continue
        for f in fields:
            after = r.data.get(f, CUSTOMER_EMPTY.get(f, ""))
            if after != before[f] and not (f == "gender" and after == m.Gender.UNKNOWN):
                changes.append(
                    {
                        "line": r.line,
                        "customer_no": r.data["customer_no"],
                        "field": labels.get(f, f),
                        "before": _masked(f, before[f]),
                        "after": _masked(f, after),
                    }
                )
    return new, changes


def _chunk_report(counts: Counts, rows: list[RowResult]) -> dict:
    """What a written chunk keeps on its ``core.JobChunk`` row, for a resumed run."""
    rejected = [r for r in rows if r.errors]
    errors = [e for r in rejected for e in r.errors][:MAX_STORED_ERRORS]
    return {
        "rows": len(rows),
        "valid": len(rows) - len(rejected),
        "rejected": len(rejected),
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "errors": errors,
    }


def batch_process(*, batch_id: int, job_id: int, dry_run: bool, actor=None) -> dict:
    """Validate (and unless ``dry_run`` write) a whole batch, reporting progress on the job.

    Returns the report: counts, every rejected row (up to MAX_STORED_ERRORS stored) and,
    for a dry run, the first clean rows as a preview and the changes it would make to
    existing customers' identity fields.

    An import writes its rows in chunks of ``WORKBENCH_IMPORT_CHUNK_ROWS`` lines; each
    chunk commits together with its ``core.JobChunk`` row (its counts and rejected rows),
    so a run that is started again (the worker was killed, the sweeper re-sent it) skips
    the chunks already written and ends with the same report as an uninterrupted run.
    """
    batch = m.ImportBatch.objects.get(pk=batch_id)
    schema = schema_for(batch.kind)
    columns = batch.columns
    path = batch.file.path
    chunk_rows = settings.WORKBENCH_IMPORT_CHUNK_ROWS
    total = count_rows(path, batch.original_name)
    job_set_progress(job_id=job_id, done=0, total=total)
    lookups = Lookups()
    counts = Counts()
    errors: list[dict] = []
    rejected = valid = seen = new_customers = 0
    preview: list[list[str]] = []
    changes: list[dict] = []
    present = set(columns)
    labels = {f.name: str(f.label) for f in schema.fields}
    written = {} if dry_run else dict(JobChunk.objects.filter(job_id=job_id).values_list("lo", "result"))
    duplicates = DuplicateKeys(schema, columns)
    # Customers on PostgreSQL: the database writes chunk N in a second thread (its own
    # connection; psycopg releases the GIL while it waits) while this thread parses chunk
    # N+1. Not inside an outer transaction (tests), where a second connection would not
    # see uncommitted rows.
    threaded = (
        not dry_run
        and schema.kind == m.ImportKind.CUSTOMERS
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )
    writers = 2  # two database sessions write while this thread parses; PostgreSQL's
    # ON CONFLICT keeps a key that appears in both chunks correct (a deadlock between
    # them fails one chunk, which write_rows then retries row by row).
    executor = ThreadPoolExecutor(max_workers=writers) if threaded else None
    pending: list = []

    def add_report(report: dict) -> None:
        nonlocal rejected, valid
        rejected += report["rejected"]
        valid += report["valid"]
        counts.add(Counts(report["created"], report["updated"], report["unchanged"]))
        errors.extend(report["errors"][: max(MAX_STORED_ERRORS - len(errors), 0)])

    def collect_dry(done_chunk: list[RowResult]) -> None:
        nonlocal new_customers
        add_report(_chunk_report(Counts(), done_chunk))
        if schema.kind == m.ImportKind.CUSTOMERS:
            new, found = identity_changes(done_chunk, present, labels)
            new_customers += new
            changes.extend(found[: max(MAX_STORED_ERRORS - len(changes), 0)])
        for r in done_chunk:
            if r.errors or len(preview) >= 20:
                continue
            preview.append([_preview_value(r.data.get(f, "")) for f in schema.field_names])

    def marker(lo: int, hi: int, done_chunk: list[RowResult]):
        def mark(chunk_counts: Counts) -> None:
            JobChunk.objects.create(
                job_id=job_id, lo=lo, hi=hi, done_at=timezone.now(), result=_chunk_report(chunk_counts, done_chunk)
            )

        return mark

    def wait_pending(keep: int = 0) -> None:
        while len(pending) > keep:
            future, lo = pending.pop(0)
            future.result()
            add_report(JobChunk.objects.get(job_id=job_id, lo=lo).result)

    def flush(chunk: list[RowResult]) -> None:
        if not chunk:
            return
        lo, hi = chunk[0].line, chunk[-1].line + 1
        if lo in written:  # written by an earlier run of this job
            add_report(written[lo])
            return
        resolve(schema, chunk, lookups, columns)
        if dry_run:
            collect_dry(chunk)
            return
        mark = marker(lo, hi, chunk)
        if executor is not None:
            wait_pending(keep=writers - 1)
            future = executor.submit(write_rows, schema, chunk, present, columns, actor=actor, mark=mark)
            pending.append((future, lo))
        else:
            write_rows(schema, chunk, present, columns, actor=actor, mark=mark)
            add_report(JobChunk.objects.get(job_id=job_id, lo=lo).result)

    try:
        with open(path, "rb") as fh:
            headers, rows = read_table(fh, batch.original_name)
            plan = row_plan(schema, headers, columns)
            width = len(headers)
            chunk: list[RowResult] = []
            for line, values in rows:
                seen += 1
                r = clean_values(plan, line, values, width)
                duplicates.check(r)
                chunk.append(r)
                if len(chunk) >= chunk_rows:
                    flush(chunk)
                    chunk = []
                    job_set_progress(job_id=job_id, done=seen, total=max(total, seen))
            flush(chunk)
            wait_pending()
    finally:
        if executor is not None:
            # Each writer thread has its own connection; close them all.
            for future in [executor.submit(_close_after, 0.05) for _ in range(writers)]:
                future.result()
            executor.shutdown()
    errors.sort(key=lambda e: e["line"])
    job_set_progress(job_id=job_id, done=seen, total=seen)
    report = {
        "dry_run": dry_run,
        "rows": seen,
        "valid": valid,
        "rejected": rejected,
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "errors": errors,
        "errors_truncated": rejected > 0 and len(errors) >= MAX_STORED_ERRORS,
        "preview_fields": schema.field_names,
        "preview": preview,
    }
    if dry_run and schema.kind == m.ImportKind.CUSTOMERS:
        report.update(new_customers=new_customers, existing_customers=valid - new_customers, changes=changes)
    return report
