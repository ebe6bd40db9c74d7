"""China's provinces grouped into logistics regions, for sourcing distance and carrier zones."""

from __future__ import annotations

from functools import lru_cache

REGIONS: dict[str, tuple[str, ...]] = {
    "east": ("上海", "江苏", "浙江", "安徽", "福建", "江西", "山东"),
    "south": ("广东", "广西", "海南"),
    "north": ("北京", "天津", "河北", "山西", "内蒙古"),
    "central": ("河南", "湖北", "湖南"),
    "southwest": ("重庆", "四川", "贵州", "云南", "西藏"),
    "northwest": ("陕西", "甘肃", "青海", "宁夏", "新疆"),
    "northeast": ("辽宁", "吉林", "黑龙江"),
}
REMOTE = ("西藏", "新疆", "青海")
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "east": ("south", "central", "north"),
    "south": ("east", "central", "southwest"),
    "north": ("east", "central", "northeast", "northwest"),
    "central": ("east", "south", "north", "southwest", "northwest"),
    "southwest": ("south", "central", "northwest"),
    "northwest": ("north", "central", "southwest"),
    "northeast": ("north",),
}
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_PROVINCE_REGION = {p: r for r, ps in REGIONS.items() for p in ps}


# Shopify and other international platforms write provinces in pinyin (`Zhejiang`) or
# by ISO 3166-2:CN code (`ZJ`, `CN-ZJ`).
PINYIN = {
    "shanghai": "上海", "jiangsu": "江苏", "zhejiang": "浙江", "anhui": "安徽", "fujian": "福建",
    "jiangxi": "江西", "shandong": "山东", "guangdong": "广东", "guangxi": "广西", "hainan": "海南",
    "beijing": "北京", "tianjin": "天津", "hebei": "河北", "shanxi": "山西", "inner mongolia": "内蒙古",
    "neimenggu": "内蒙古", "henan": "河南", "hubei": "湖北", "hunan": "湖南", "chongqing": "重庆",
    "sichuan": "四川", "guizhou": "贵州", "yunnan": "云南", "tibet": "西藏", "xizang": "西藏",
    "shaanxi": "陕西", "gansu": "甘肃", "qinghai": "青海", "ningxia": "宁夏", "xinjiang": "新疆",
    "liaoning": "辽宁", "jilin": "吉林", "heilongjiang": "黑龙江",
}
ISO_CODES = {
    "SH": "上海", "JS": "江苏", "ZJ": "浙江", "AH": "安徽", "FJ": "福建", "JX": "江西", "SD": "山东",
    "GD": "广东", "GX": "广西", "HI": "海南", "BJ": "北京", "TJ": "天津", "HE": "河北", "SX": "山西",
    "NM": "内蒙古", "HA": "河南", "HB": "湖北", "HN": "湖南", "CQ": "重庆", "SC": "四川", "GZ": "贵州",
    "YN": "云南", "XZ": "西藏", "SN": "陕西", "GS": "甘肃", "QH": "青海", "NX": "宁夏", "XJ": "新疆",
    "LN": "辽宁", "JL": "吉林", "HL": "黑龙江",
}


@lru_cache(maxsize=4096)
def normalise_province(name: str) -> str:
    """`浙江省`, `浙江`, `Zhejiang` and `CN-ZJ` are the same province; unknown names pass
    through unchanged."""
    name = name.strip()
    latin = name.lower().removesuffix(" province").removesuffix(" sheng").strip()
    if latin in PINYIN:
        return PINYIN[latin]
    code = name.upper().removeprefix("CN-")
    if code in ISO_CODES and name.isascii():
        return ISO_CODES[code]
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in _PROVINCE_REGION:
            return name[: -len(suffix)]
    return name


def is_known_province(name: str) -> bool:
    return normalise_province(name) in _PROVINCE_REGION


def region_of(province: str) -> str:
    return _PROVINCE_REGION.get(normalise_province(province), "unknown")


def is_remote(province: str) -> bool:
    return normalise_province(province) in REMOTE


def distance_rank(origin: str, destination: str) -> int:
    """0 same province, 1 same region, 2 neighbouring region, 3 elsewhere, +1 if remote."""
    o, d = normalise_province(origin), normalise_province(destination)
    if o == d:
        rank = 0
    elif region_of(o) == region_of(d):
        rank = 1
    elif region_of(d) in NEIGHBOURS.get(region_of(o), ()):
        rank = 2
    else:
        rank = 3
    return rank + (1 if is_remote(d) and rank > 0 else 0)


def zone(origin: str, destination: str) -> str:
    """Carrier rate-card zone: local, regional, national or remote."""
    if is_remote(destination) and normalise_province(origin) != normalise_province(destination):
        return "remote"
    return ("local", "regional", "national", "national")[min(distance_rank(origin, destination), 3)]
