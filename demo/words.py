"""Vocabulary of the synthetic city: names, places and registry terms, with frequencies.

Weights are rough shares, not statistics; they only keep the demo looking like 林州市.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import accumulate
from random import Random
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed weighted choice; cumulative weights are summed once, not once per row."""

    def __init__(self, weights: Mapping[T, float]) -> None:
        self.values = tuple(weights)
        self._cumulative = tuple(accumulate(weights.values()))

    def pick(self, rng: Random) -> T:
        return rng.choices(self.values, cum_weights=self._cumulative)[0]


# The tables below read better packed than one entry per line.
# fmt: off

SURNAMES = Weighted(
    {
        "王": 71, "李": 70, "张": 65, "刘": 52, "陈": 35, "杨": 30, "郭": 25, "赵": 20,
        "秦": 18, "马": 12, "宋": 10, "付": 10, "孙": 10, "高": 10, "周": 10, "元": 8,
        "申": 8, "牛": 8, "朱": 8, "冯": 6, "吴": 6, "徐": 6, "胡": 6, "韩": 6, "程": 5,
        "魏": 5, "崔": 5, "任": 5, "路": 4, "许": 4, "岳": 4, "常": 4, "贾": 4, "田": 4,
        "闫": 4, "史": 4, "侯": 4, "桑": 3, "靳": 3, "段": 3,
    }
)

MALE_GIVEN = tuple("伟强军磊勇涛明超建国志鹏辉斌杰海峰亮浩宇俊凯鑫晨昊博文华林刚平波龙飞成新永庆保")
FEMALE_GIVEN = tuple("芳娜敏静丽艳娟霞燕秀英玲婷雪慧洁琳颖佳欣怡萱雨梦倩晶妍璐莉萍梅兰凤桂红")

ETHNICITIES = Weighted({"汉族": 975, "回族": 12, "满族": 6, "蒙古族": 4, "壮族": 2, "土家族": 1})

# Age brackets (lower bound, years) of a county population pyramid.
AGE_BRACKETS = Weighted({0: 11, 10: 12, 20: 11, 30: 15, 40: 14, 50: 16, 60: 12, 70: 7, 80: 2})

# Townships of 林州市; the four urban 街道 hold more of the population than any town.
TOWNSHIPS = Weighted(
    {
        "开元街道": 3, "振林街道": 3, "桂园街道": 3, "龙山街道": 3, "姚村镇": 1, "横水镇": 1,
        "河顺镇": 1, "任村镇": 1, "原康镇": 1, "五龙镇": 1, "临淇镇": 1, "东岗镇": 1,
        "采桑镇": 1, "合涧镇": 1, "陵阳镇": 1, "桂林镇": 1, "黄华镇": 1, "东姚镇": 1,
        "石板岩镇": 1, "城郊乡": 1,
    }
)

STREETS = (
    "红旗渠大道", "人民路", "太行路", "长春路", "振林路", "桂园路", "龙山路", "兴林路",
    "开元路", "黄华大道", "北环路", "南环路", "朝阳路", "华林路",
)

VILLAGES = (
    "东街", "西街", "南街", "北街", "辛庄", "王家庄", "李家庄", "张家庄", "河头", "石门",
    "桑园", "柳林", "后峪", "前峪", "南寨", "北寨", "东坡", "西坡", "上庄", "下庄", "槐树岭",
    "杏花", "枣园", "井头", "大菜园", "小店", "红岩", "泉门", "北关", "南关",
)

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183",
    "185", "186", "187", "188", "189", "191", "193", "199",
)

SIDES = ("东侧", "西侧", "南侧", "北侧", "东南角", "西北角")

# Characters enterprises pick their 字号 (trade name) from.
TRADE_NAME_CHARS = tuple(
    "鑫源恒泰华盛达宏远昌隆丰顺兴瑞祥安嘉润博诚信德新金建永正中天宇豪晟旭东方明红渠太行峰岳通"
)

INDUSTRIES: Mapping[str, tuple[str, ...]] = {
    "建筑工程": ("房屋建筑工程施工", "市政公用工程施工", "建筑装饰装修工程", "土石方工程施工"),
    "建材": ("建筑材料销售", "水泥制品制造", "砂石料加工", "五金产品零售"),
    "石材": ("石材开采与加工", "建筑用石加工", "石材制品销售"),
    "机械制造": ("通用设备制造", "机械零部件加工", "机械设备租赁", "金属结构制造"),
    "汽车配件": ("汽车零部件及配件制造", "汽车零配件零售", "机动车修理和维护"),
    "商贸": ("日用百货销售", "五金产品批发", "针纺织品销售", "农副产品销售"),
    "物流": ("普通货物仓储服务", "道路货物运输", "装卸搬运", "国内货物运输代理"),
    "农业开发": ("蔬菜种植", "水果种植", "中草药种植", "农业技术推广服务"),
    "食品": ("食品销售", "粮食加工食品生产", "农产品初加工服务"),
    "旅游开发": ("旅游开发项目策划咨询", "游览景区管理", "餐饮服务", "住宿服务"),
    "电子科技": ("电子元器件制造", "软件开发", "信息系统集成服务", "计算机系统服务"),
    "房地产开发": ("房地产开发经营", "物业管理", "住房租赁"),
    "铸造": ("黑色金属铸造", "有色金属铸造", "金属材料销售"),
    "劳务": ("劳务服务", "建筑劳务分包", "家政服务"),
}

# Market entity types, with the name suffix and registered capital (万元) each one uses.
ENTITY_TYPES = Weighted(
    {
        "有限责任公司(自然人投资或控股)": 60,
        "有限责任公司(自然人独资)": 15,
        "个人独资企业": 10,
        "股份有限公司(非上市、自然人投资或控股)": 5,
        "普通合伙企业": 3,
        "有限责任公司(国有独资)": 2,
    }
)

NAME_SUFFIXES: Mapping[str, tuple[str, ...]] = {
    "有限责任公司(自然人投资或控股)": ("有限公司",),
    "有限责任公司(自然人独资)": ("有限公司",),
    "个人独资企业": ("厂", "经营部", "商行"),
    "股份有限公司(非上市、自然人投资或控股)": ("股份有限公司",),
    "普通合伙企业": ("中心(普通合伙)",),
    "有限责任公司(国有独资)": ("有限公司",),
}

CAPITALS: Mapping[str, tuple[int, ...]] = {
    "有限责任公司(自然人投资或控股)": (10, 30, 50, 100, 200, 300, 500, 1000, 2000),
    "有限责任公司(自然人独资)": (10, 20, 50, 100, 200, 500),
    "个人独资企业": (1, 3, 5, 10, 20, 50),
    "股份有限公司(非上市、自然人投资或控股)": (1000, 2000, 3000, 5000, 10000),
    "普通合伙企业": (10, 50, 100, 300),
    "有限责任公司(国有独资)": (1000, 5000, 10000, 30000),
}

ENTERPRISE_STATUSES = Weighted({"存续": 55, "在业": 30, "注销": 10, "吊销": 5})
ACTIVE_STATUSES = ("存续", "在业")

# Land use, with the 出让 unit price range in 元 per square metre.
LAND_USES: Mapping[str, tuple[int, int]] = {
    "工业用地": (160, 320),
    "商服用地": (1200, 3200),
    "城镇住宅用地": (1500, 4000),
    "仓储用地": (200, 450),
    "采矿用地": (120, 260),
    "公共设施用地": (300, 800),
}
LAND_USE_SHARES = Weighted(
    {
        "工业用地": 40, "商服用地": 22, "城镇住宅用地": 15, "仓储用地": 12, "采矿用地": 6,
        "公共设施用地": 5,
    }
)
RIGHT_TYPE = "国有建设用地使用权"

TAX_AUTHORITIES = Weighted(
    {
        "国家税务总局林州市税务局第一税务分局": 30,
        "国家税务总局林州市税务局第二税务分局": 25,
        "国家税务总局林州市税务局第三税务分局": 20,
        "国家税务总局林州市税务局姚村税务分局": 10,
        "国家税务总局林州市税务局横水税务分局": 10,
        "国家税务总局林州市税务局临淇税务分局": 5,
    }
)
CREDIT_RATINGS = Weighted({"A": 25, "B": 55, "M": 10, "C": 7, "D": 3})

# An employer pays one month for all its employees at once, on time or not.
PAYMENT_STATUSES = Weighted({"已实缴": 94, "补缴": 4, "欠缴": 2})

# fmt: on
