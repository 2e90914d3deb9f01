"""Header names → canonical columns, per ledger kind.

Villages spell their headers a hundred ways (LEDGER_FORMATS.md); the rest of finaudit sees only the
canonical names of DESIGN.md §3. This module holds the alias table (which a rule pack can extend with
`aliases:`), the list of columns each kind may have and which of them are required, and the words that
mark a sheet as one kind or another in its title.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from finaudit.ingest.values import normalise_text

KINDS = (
    "cash_journal",
    "bank_journal",
    "cash_bank_journal",
    "vouchers",
    "trial_balance",
    "fixed_assets",
    "receivables_payables",
    "contracts",
)

KIND_LABELS = {
    "cash_journal": "现金日记账",
    "bank_journal": "银行存款日记账",
    "cash_bank_journal": "现金存款日记账",
    "vouchers": "序时账",
    "trial_balance": "科目余额表",
    "fixed_assets": "固定资产台账",
    "receivables_payables": "往来明细",
    "contracts": "合同台账",
}

JOURNAL_KINDS = frozenset({"cash_journal", "bank_journal", "cash_bank_journal"})

_JOURNAL_COLUMNS = (
    "date", "year", "month", "day", "voucher", "voucher_word", "voucher_no", "summary",
    "counter_account", "debit", "credit", "amount", "direction", "balance", "counterparty",
    "attachments", "approval", "settlement_no", "cash_balance", "bank_balance",
)

# Columns each kind can have; the first names are the required ones (DESIGN.md §3, bold).
KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "cash_journal": _JOURNAL_COLUMNS,
    "bank_journal": _JOURNAL_COLUMNS + ("bank_account",),
    "cash_bank_journal": _JOURNAL_COLUMNS,
    "vouchers": (
        "date", "year", "month", "day", "voucher", "voucher_word", "voucher_no", "summary",
        "account_code", "account_name", "debit", "credit", "preparer", "reviewer", "attachments",
        "counterparty",
    ),
    "trial_balance": (
        "account_code", "account_name", "opening_debit", "opening_credit", "opening_side", "opening",
        "period_debit", "period_credit", "ytd_debit", "ytd_credit", "closing_debit",
        "closing_credit", "closing_side", "closing",
    ),
    "fixed_assets": (
        "asset_id", "name", "category", "acquired", "quantity", "unit_price", "original_value",
        "accumulated_depreciation", "net_value", "location", "custodian", "status",
    ),
    "receivables_payables": (
        "party", "kind", "party_type", "origin_date", "balance", "summary", "account_code",
        "debit", "credit",
    ),
    "contracts": (
        "contract_no", "counterparty", "subject", "area", "unit", "start", "end", "annual_amount",
        "received", "tender_method", "total_amount",
    ),
}

# Required columns; a tuple inside means "any one of these" (e.g. a date column or split 月/日).
REQUIRED: dict[str, tuple] = {
    "cash_journal": (("date", "day"), "summary", ("debit", "amount"), ("credit", "amount"),
                     ("balance", "cash_balance")),
    "bank_journal": (("date", "day"), "summary", ("debit", "amount"), ("credit", "amount"),
                     ("balance", "bank_balance")),
    "cash_bank_journal": (("date", "day"), "summary", ("debit", "amount"), ("credit", "amount"),
                          ("balance", "cash_balance", "bank_balance")),
    "vouchers": (("date", "day"), ("voucher", "voucher_no"), "account_code", "debit", "credit"),
    "trial_balance": ("account_code", ("closing", "closing_debit", "closing_credit")),
    "fixed_assets": ("name", "original_value"),
    "receivables_payables": ("party", "origin_date", "balance"),
    "contracts": ("counterparty", "start", "end", "annual_amount"),
}

# Money columns (parsed to integer 分), date columns and plain-number columns per canonical name.
MONEY_COLUMNS = frozenset({
    "debit", "credit", "amount", "balance", "cash_balance", "bank_balance", "opening_debit",
    "opening_credit", "opening", "period_debit", "period_credit", "ytd_debit", "ytd_credit",
    "closing_debit", "closing_credit", "closing", "unit_price", "original_value",
    "accumulated_depreciation", "net_value", "annual_amount", "received", "total_amount",
})
DATE_COLUMNS = frozenset({"date", "acquired", "origin_date", "start", "end"})
NUMBER_COLUMNS = frozenset({"quantity", "area", "attachments"})

ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("日期", "记账日期", "制单日期", "业务日期", "时间", "凭证日期", "入账日期", "发生日期"),
    "year": ("年", "年份", "年度"),
    "month": ("月", "月份"),
    "day": ("日",),
    "voucher": ("凭证号", "凭证字号", "凭证号数", "凭证编号", "记账凭证号", "凭证", "凭证号码",
                "记账凭证", "凭证字号数"),
    "voucher_word": ("字", "凭证字", "凭证种类", "凭证类别"),
    "voucher_no": ("号", "凭证号数号", "号数"),
    "summary": ("摘要", "事由", "内容", "事项", "业务摘要", "摘 要"),
    "counter_account": ("对方科目", "对应科目", "对方科目名称"),
    "debit": ("借方", "借方金额", "收入", "收入金额", "收方", "借方发生额", "收入(借方)", "借方(收入)",
              "收入借方"),
    "credit": ("贷方", "贷方金额", "支出", "支出金额", "付方", "贷方发生额", "支出(贷方)", "贷方(支出)",
               "支出贷方"),
    "amount": ("收支金额", "发生额", "收支", "金额(+收-支)"),
    "direction": ("借或贷", "方向", "借/贷", "余额方向"),
    "balance": ("余额", "结余", "结存", "余额金额", "借方余额", "账面余额", "现金余额", "存款余额",
                "期末余额"),
    "cash_balance": ("现金结余", "库存现金余额", "现金余额(现金)", "现金结存"),
    "bank_balance": ("存款结余", "银行存款余额", "存款结存", "银行余额"),
    "counterparty": ("往来单位", "收款单位", "收款人", "付款人", "对方单位", "户名",
                     "收(付)款单位", "收付款单位", "承包方", "承包人", "承租方", "乙方", "承包户"),
    "attachments": ("附件张数", "附件数", "单据张数", "附件", "附单据数"),
    "approval": ("审批", "审批文号", "决议编号", "会议决议", "审批单号", "民主决策"),
    "settlement_no": ("结算号", "票据号", "支票号"),
    "bank_account": ("银行账号", "账号", "开户行"),
    "account_code": ("科目编码", "科目代码", "科目编号", "会计科目代码", "科目号", "编码", "代码"),
    "account_name": ("科目名称", "会计科目", "科目", "会计科目名称"),
    "preparer": ("制单", "制单人", "记账人", "录入人"),
    "reviewer": ("审核", "审核人", "复核人"),
    "opening_debit": ("期初余额借方", "年初余额借方", "期初借方", "年初借方", "期初借方余额",
                      "年初借方余额"),
    "opening_credit": ("期初余额贷方", "年初余额贷方", "期初贷方", "年初贷方", "期初贷方余额",
                       "年初贷方余额"),
    "opening_side": ("期初方向", "期初余额方向", "年初方向", "期初余额借或贷", "年初余额方向"),
    "opening": ("期初余额", "年初余额", "年初数", "期初数", "期初余额金额", "年初余额金额"),
    "period_debit": ("本期发生额借方", "本期借方", "本期借方发生额", "本月发生额借方", "本期发生借方"),
    "period_credit": ("本期发生额贷方", "本期贷方", "本期贷方发生额", "本月发生额贷方", "本期发生贷方"),
    "ytd_debit": ("本年累计借方", "本年累计发生额借方", "累计借方", "本年借方累计"),
    "ytd_credit": ("本年累计贷方", "本年累计发生额贷方", "累计贷方", "本年贷方累计"),
    "closing_debit": ("期末余额借方", "年末余额借方", "期末借方", "年末借方", "期末借方余额"),
    "closing_credit": ("期末余额贷方", "年末余额贷方", "期末贷方", "年末贷方", "期末贷方余额"),
    "closing_side": ("期末方向", "期末余额方向", "年末方向", "期末余额借或贷"),
    "closing": ("期末余额", "年末余额", "期末数", "年末数", "期末余额金额"),
    "asset_id": ("资产编号", "资产编码", "编号", "卡片编号", "资产代码"),
    "name": ("资产名称", "名称", "固定资产名称", "项目名称"),
    "category": ("类别", "资产类别", "分类", "类型"),
    "acquired": ("购置日期", "购建日期", "取得日期", "购建时间", "入账日期", "购置时间"),
    "quantity": ("数量",),
    "unit_price": ("单价",),
    "original_value": ("原值", "原价", "账面原值", "资产原值", "原值(元)"),
    "accumulated_depreciation": ("累计折旧", "已提折旧"),
    "net_value": ("净值", "账面净值", "资产净值"),
    "location": ("存放地点", "坐落位置", "地点", "使用部门", "位置"),
    "custodian": ("保管人", "使用人", "责任人", "管理人"),
    "status": ("状态", "使用状况", "使用状态"),
    "party": ("单位/个人名称", "单位或个人名称", "单位名称", "户名", "姓名", "债务人", "债权人",
              "往来单位", "往来单位名称", "对方单位", "名称", "借款人"),
    "kind": ("类型", "往来类型", "款项类型", "债权债务类型", "性质"),
    "party_type": ("对象类型", "对象", "单位类型", "身份", "往来对象类型"),
    "origin_date": ("发生日期", "形成日期", "发生时间", "借款日期", "日期", "形成时间"),
    "contract_no": ("合同编号", "合同号", "编号"),
    "subject": ("发包标的", "项目", "发包项目", "标的", "资源名称", "承包项目", "合同标的", "项目名称"),
    "area": ("面积", "数量", "规模"),
    "unit": ("单位", "计量单位", "面积单位"),
    "start": ("起始日期", "开始日期", "起始时间", "承包起始日期", "起租日期", "合同起始日期", "起"),
    "end": ("终止日期", "结束日期", "到期日期", "截止日期", "承包终止日期", "到期时间", "止"),
    "annual_amount": ("年承包费", "年租金", "年承包金", "每年金额", "年金额", "年发包金额", "年收费"),
    "received": ("本年已收", "已收金额", "实收金额", "本年实收", "已收"),
    "total_amount": ("合同总金额", "合同金额", "总金额"),
    "tender_method": ("招标方式", "发包方式", "承包方式"),
}

# Words in a sheet's title (or the sheet name, or the file name) that name its kind; longest first.
TITLE_KINDS: tuple[tuple[str, str], ...] = (
    ("现金存款日记账", "cash_bank_journal"),
    ("现金银行日记账", "cash_bank_journal"),
    ("库存现金日记账", "cash_journal"),
    ("银行存款日记账", "bank_journal"),
    ("银行日记账", "bank_journal"),
    ("现金日记账", "cash_journal"),
    ("会计分录序时簿", "vouchers"),
    ("记账凭证", "vouchers"),
    ("凭证列表", "vouchers"),
    ("序时账", "vouchers"),
    ("科目余额表", "trial_balance"),
    ("余额表", "trial_balance"),
    ("总账", "trial_balance"),
    ("固定资产台账", "fixed_assets"),
    ("固定资产清单", "fixed_assets"),
    ("资产登记簿", "fixed_assets"),
    ("固定资产", "fixed_assets"),
    ("债权债务", "receivables_payables"),
    ("往来明细", "receivables_payables"),
    ("应收款明细", "receivables_payables"),
    ("应付款明细", "receivables_payables"),
    ("往来", "receivables_payables"),
    ("合同台账", "contracts"),
    ("承包合同", "contracts"),
    ("发包合同", "contracts"),
    ("合同", "contracts"),
)

# Header words that carry no column meaning on their own: a unit row or a generic lower header cell
# ("金额" under "借方").
GENERIC_WORDS = frozenset({"金额", "元", "金额元", "人民币", "数额", "现金元", "金额(元)", "(元)", "元角分"})

_UNIT_RE = re.compile(r"\((?:元|人民币元|万元|亩|个|台|件|张)\)$")
_SPACE_RE = re.compile(r"\s+")
_PUNCT = str.maketrans({"（": "(", "）": ")", "：": "", ":": ""})


def header_key(value: object) -> str:
    """Normalise a header cell for lookup: half-width, no spaces, ASCII brackets, no unit "(元)"."""
    return _text_key(value) if type(value) is str else _key(value)


@functools.lru_cache(maxsize=4096)  # the header search asks for the same labels on every sheet
def _text_key(value: str) -> str:
    return _key(value)


def _key(value: object) -> str:
    text = _SPACE_RE.sub("", normalise_text(value)).translate(_PUNCT)
    if text in GENERIC_WORDS:
        return text
    return _UNIT_RE.sub("", text)


def build_lookup(extra: Mapping[str, list[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """Header key → canonical names it may stand for, in alias-table order (pack aliases first)."""
    lookup: dict[str, list[str]] = {}
    sources: list[tuple[str, tuple[str, ...]]] = []
    if extra:
        sources += [(canon, tuple(names)) for canon, names in extra.items()]
    sources += list(ALIASES.items())
    for canonical, names in sources:
        for name in names:
            key = header_key(name)
            bucket = lookup.setdefault(key, [])
            if canonical not in bucket:
                bucket.append(canonical)
    return {key: tuple(value) for key, value in lookup.items()}


def kind_from_text(text: str) -> str | None:
    """The ledger kind a title, sheet or file name names, or None."""
    compact = _SPACE_RE.sub("", text)
    for word, kind in TITLE_KINDS:
        if word in compact:
            return kind
    return None
