"""The market list: real Upbit codes first, then generated plausible tickers, over KRW, BTC and USDT."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from upbit_sim.ticks import round_to_tick

# base, korean name, english name, KRW price (order of popularity on Upbit)
_KNOWN: tuple[tuple[str, str, str, str], ...] = (
    ("BTC", "비트코인", "Bitcoin", "104862000"),
    ("ETH", "이더리움", "Ethereum", "3152000"),
    ("XRP", "엑스알피(리플)", "XRP", "2071"),
    ("SOL", "솔라나", "Solana", "212400"),
    ("DOGE", "도지코인", "Dogecoin", "253.4"),
    ("ADA", "에이다", "Cardano", "871"),
    ("TRX", "트론", "TRON", "352.1"),
    ("LINK", "체인링크", "Chainlink", "23450"),
    ("AVAX", "아발란체", "Avalanche", "31250"),
    ("SUI", "수이", "Sui", "4825"),
    ("DOT", "폴카닷", "Polkadot", "6120"),
    ("BCH", "비트코인캐시", "Bitcoin Cash", "712500"),
    ("ETC", "이더리움클래식", "Ethereum Classic", "28760"),
    ("XLM", "스텔라루멘", "Stellar Lumens", "412.3"),
    ("HBAR", "헤데라", "Hedera", "289.7"),
    ("NEAR", "니어프로토콜", "NEAR Protocol", "4110"),
    ("AAVE", "에이브", "Aave", "398200"),
    ("APT", "앱토스", "Aptos", "9645"),
    ("SHIB", "시바이누", "Shiba Inu", "0.01823"),
    ("PEPE", "페페", "Pepe", "0.01412"),
    ("SAND", "샌드박스", "The Sandbox", "402"),
    ("ATOM", "코스모스", "Cosmos", "6215"),
    ("ARB", "아비트럼", "Arbitrum", "612.4"),
    ("UNI", "유니스왑", "Uniswap", "12840"),
    ("BTT", "비트토렌트", "BitTorrent", "0.0012"),
)
KRW_PER_USDT = Decimal("1452")
# lowest reference price (100 minimal ticks on every quote): the book needs 30 bid levels under the best ask,
# and 1 KRW coins priced in BTC would otherwise sit at 1 satoshi, where no bid fits below the ask
MIN_PRICE = Decimal("0.000001")
_ONSETS = ("B", "C", "D", "F", "G", "K", "L", "M", "N", "P", "R", "S", "T", "V", "Z", "X", "Q")
_VOWELS = ("A", "E", "I", "O", "U", "Y")
# Hangul reading of each Latin letter, for plausible Korean names of generated coins
_HANGUL = {
    "A": "아", "B": "비", "C": "씨", "D": "디", "E": "이", "F": "에프", "G": "지", "H": "에이치",
    "I": "아이", "J": "제이", "K": "케이", "L": "엘", "M": "엠", "N": "엔", "O": "오", "P": "피",
    "Q": "큐", "R": "알", "S": "에스", "T": "티", "U": "유", "V": "브이", "W": "더블유", "X": "엑스",
    "Y": "와이", "Z": "지",
}  # fmt: skip
_SUFFIXES = (("Protocol", "프로토콜"), ("Network", "네트워크"), ("Chain", "체인"), ("Coin", "코인"), ("", ""))


@dataclass(slots=True)
class MarketInfo:
    """One trading pair as `/v1/market/all?is_details=true` describes it, plus the simulator's knobs."""

    code: str
    korean_name: str
    english_name: str
    price: Decimal
    """Reference price at the start of the run (on the pair's tick grid)."""
    weight: float
    """Share of the generated activity (KRW-BTC is the busiest)."""
    warning: bool = False
    caution: dict[str, bool] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "PRICE_FLUCTUATIONS",
                "TRADING_VOLUME_SOARING",
                "DEPOSIT_AMOUNT_SOARING",
                "GLOBAL_PRICE_DIFFERENCES",
                "CONCENTRATION_OF_SMALL_ACCOUNTS",
            ),
            False,
        )
    )

    @property
    def quote(self) -> str:
        return self.code.split("-", 1)[0]

    @property
    def base(self) -> str:
        return self.code.split("-", 1)[1]


def _quoted(quote: str, krw_price: Decimal, btc_krw: Decimal) -> Decimal:
    if quote == "KRW":
        raw = krw_price
    elif quote == "BTC":
        raw = krw_price / btc_krw
    else:
        raw = krw_price / KRW_PER_USDT
    return max(MIN_PRICE, round_to_tick(quote, raw, up=True))


def _generated_coins(rng: random.Random, taken: set[str]) -> tuple[str, str, str, Decimal]:
    while True:
        length = rng.choice((3, 3, 4, 4, 4, 5))
        letters = [rng.choice(_ONSETS) if i % 2 == 0 else rng.choice(_VOWELS) for i in range(length)]
        base = "".join(letters)
        if base not in taken:
            taken.add(base)
            break
    suffix_en, suffix_ko = rng.choice(_SUFFIXES)
    english = base.capitalize() + (f" {suffix_en}" if suffix_en else "")
    korean = "".join(_HANGUL[c] for c in base) + suffix_ko
    # log-uniform KRW price between 0.001 and 500,000
    krw = Decimal(str(round(10 ** rng.uniform(-3, 5.7), 6)))
    return base, korean, english, krw


def build_catalog(count: int, seed: int, codes: list[str] | None = None) -> list[MarketInfo]:
    """`count` markets, deterministic for a seed: KRW-BTC, KRW-ETH, KRW-XRP, BTC-ETH, USDT-BTC first,
    then about five KRW pairs for every three BTC pairs and one USDT pair. `codes` picks exact markets
    instead (unknown bases get generated names and prices)."""
    rng = random.Random(f"{seed}:catalog")
    known = {base: (ko, en, Decimal(price)) for base, ko, en, price in _KNOWN}
    btc_krw = known["BTC"][2]
    out: list[MarketInfo] = []

    def add(quote: str, base: str, ko: str, en: str, krw: Decimal) -> None:
        rank = len(out)
        weight = 1.0 / (1 + rank) ** 0.8
        out.append(MarketInfo(f"{quote}-{base}", ko, en, _quoted(quote, krw, btc_krw), weight))

    if codes is not None:
        taken = set(known)
        for code in codes:
            quote, _, base = code.partition("-")
            if quote not in ("KRW", "BTC", "USDT") or not base:
                raise ValueError(f"market code {code!r} is not QUOTE-BASE with quote KRW, BTC or USDT")
            if base in known:
                ko, en, krw = known[base]
            else:
                _, ko, en, krw = _generated_coins(rng, taken)
                en = base.capitalize()
            add(quote, base, ko, en, krw)
        return out

    order: list[tuple[str, str]] = [
        ("KRW", "BTC"),
        ("KRW", "ETH"),
        ("KRW", "XRP"),
        ("BTC", "ETH"),
        ("USDT", "BTC"),
    ]
    rest_known = [b for b, *_ in _KNOWN]
    pattern = ("KRW", "KRW", "BTC", "KRW", "USDT", "KRW", "BTC", "KRW", "BTC")
    used = set(order)
    cursor = {"KRW": 0, "BTC": 0, "USDT": 0}
    taken = set(known)
    generated: list[tuple[str, str, str, Decimal]] = []
    i = 0
    while len(order) < count:
        quote = pattern[i % len(pattern)]
        i += 1
        while cursor[quote] < len(rest_known):
            base = rest_known[cursor[quote]]
            cursor[quote] += 1
            if (quote, base) not in used and not (quote != "KRW" and base == "BTC"):
                used.add((quote, base))
                order.append((quote, base))
                break
        else:
            coin = _generated_coins(rng, taken)
            generated.append(coin)
            known[coin[0]] = (coin[1], coin[2], coin[3])
            used.add((quote, coin[0]))
            order.append((quote, coin[0]))
    for quote, base in order[:count]:
        ko, en, krw = known[base]
        add(quote, base, ko, en, krw)
    return out


def new_market(
    code: str, seed: int, korean_name: str | None, english_name: str | None, price: Decimal | None
) -> MarketInfo:
    """A market listed during the run (admin API or schedule)."""
    info = build_catalog(1, seed, [code])[0]
    if korean_name:
        info.korean_name = korean_name
    if english_name:
        info.english_name = english_name
    if price is not None:
        info.price = max(MIN_PRICE, round_to_tick(info.quote, price, up=True))
    info.weight = 0.3
    return info
