"""The words the demo's synthetic registry and people are made of: kinds of institutions and
projects (DOMAIN.md), organisation names, Azerbaijani personal names. Invented, not real
organisations or people."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Institution:
    id: str
    name: str
    district: str
    places: int
    groups: tuple[str, ...]


@dataclass(frozen=True)
class ProjectKind:
    code: str
    name: str
    groups: tuple[str, ...]
    # The part of the NGO projects' people this kind serves.
    share: float


# Added, in this order, while the institutions hold fewer places than the plan's total.
INSTITUTIONS = (
    Institution(
        "inst-ahillar-quba",
        "Quba ahıllar üçün sosial xidmət müəssisəsi",
        "Quba",
        40,
        ("elderly", "elderly_alone"),
    ),
    Institution(
        "inst-elillik-yevlax",
        "Yevlax əlilliyi olan şəxslər üçün sosial xidmət müəssisəsi",
        "Yevlax",
        40,
        ("disability",),
    ),
    Institution(
        "inst-usaq-gence",
        "Gəncə sağlamlıq imkanları məhdud uşaqlar üçün sosial xidmət müəssisəsi",
        "Gəncə",
        40,
        ("child_with_disability",),
    ),
    Institution(
        "inst-ahillar-sirvan",
        "Şirvan ahıllar və əlilliyi olan şəxslər üçün sosial xidmət müəssisəsi",
        "Şirvan",
        40,
        ("elderly", "elderly_alone", "disability"),
    ),
    Institution(
        "inst-zorakiliq-baki",
        "Bakı məişət zorakılığından zərər çəkmiş şəxslər üçün sığınacaq",
        "Xətai",
        25,
        ("domestic_violence_victim",),
    ),
)

PROJECT_KINDS = (
    ProjectKind(
        "gunerzi",
        "Sağlamlıq imkanları məhdud uşaqlar üçün günərzi reabilitasiya mərkəzi",
        ("child_with_disability",),
        0.42,
    ),
    ProjectKind(
        "icma",
        "Sağlamlıq imkanları məhdud uşaqlar üçün icma əsaslı reabilitasiya",
        ("child_with_disability",),
        0.26,
    ),
    ProjectKind(
        "aile",
        "Çətin həyat şəraitində olan ailələrə sosial dəstək",
        ("low_income_family",),
        0.14,
    ),
    ProjectKind(
        "zorakiliq",
        "Məişət zorakılığından zərər çəkmiş şəxslərə psixoloji və hüquqi dəstək",
        ("domestic_violence_victim",),
        0.07,
    ),
    ProjectKind(
        "adaptasiya",
        "Cəzaçəkmə müəssisələrindən azad edilmiş şəxslərin sosial adaptasiyası",
        ("released_from_prison",),
        0.05,
    ),
    ProjectKind(
        "mezun",
        "Uşaq müəssisələrinin məzunlarının müstəqil həyata hazırlanması",
        ("institution_graduate",),
        0.04,
    ),
    ProjectKind(
        "alver",
        "İnsan alveri qurbanlarının reabilitasiyası və reinteqrasiyası",
        ("trafficking_victim",),
        0.02,
    ),
)

ORGANISATION_STEMS = (
    "Addım",
    "Ailəyə Dəstək",
    "Bənövşə",
    "Bulaq",
    "Çinar",
    "Dalğa",
    "Dostluq",
    "Gələcək",
    "Göyərçin",
    "Həmrəylik",
    "İşıqlı Yol",
    "Kəpənək",
    "Körpü",
    "Mayak",
    "Mərhəmət",
    "Nəfəs",
    "Ocaq",
    "Qönçə",
    "Səma",
    "Sevgi",
    "Təbəssüm",
    "Təməl",
    "Ulduz",
    "Ürək",
    "Vüsal",
    "Yuva",
)
ORGANISATION_FORMS = (
    "İctimai Birliyi",
    "Uşaqlara Yardım İctimai Birliyi",
    "Sosial İnkişaf İctimai Birliyi",
)

MALE_NAMES = (
    "Elvin",
    "Rəşad",
    "Tural",
    "Orxan",
    "Kamran",
    "Vüqar",
    "Elçin",
    "Nurlan",
    "Fərid",
    "Ramil",
    "Səbuhi",
    "Anar",
    "Əli",
    "Hüseyn",
    "Murad",
    "Namiq",
    "Cavid",
    "Zaur",
    "İlqar",
    "Mübariz",
)
FEMALE_NAMES = (
    "Leyla",
    "Günay",
    "Sevinc",
    "Nigar",
    "Aysel",
    "Gülnarə",
    "Sona",
    "Aytən",
    "Könül",
    "Səbinə",
    "Nərgiz",
    "Ülviyyə",
    "Zərifə",
    "Fidan",
    "Mələk",
    "Xədicə",
    "Şəbnəm",
    "Lalə",
    "Təranə",
    "Aynur",
)
# Family names in their male form; a woman's takes -a (Əliyev -> Əliyeva).
FAMILY_NAMES = (
    "Əliyev",
    "Məmmədov",
    "Hüseynov",
    "Quliyev",
    "Həsənov",
    "İsmayılov",
    "Abbasov",
    "Rzayev",
    "Cəfərov",
    "Kərimov",
    "Babayev",
    "Nəsirov",
    "Orucov",
    "Süleymanov",
    "Qasımov",
    "Mustafayev",
    "Vəliyev",
    "Şükürov",
    "Əhmədov",
    "Bayramov",
)
