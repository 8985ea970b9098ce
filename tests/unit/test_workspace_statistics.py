"""The statistics page on a stand-in statistics service: every section as a chart and a table,
withheld figures shown as "fewer than k" (never as nought), the filters checked before they are
sent and the service's refusal shown in place, the exports passed on with their type and file
name, the three languages, and a form and charts usable by keyboard and screen reader."""

import re
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.unit.statistics_figures import SECTION_IDS, dimensions, figures
from tests.unit.workspace_fakes import FakeServices, problem, sign_in, workspace
from workspace.pages.cases import BAKU
from workspace.pages.statistics import recent_months

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Page(HTMLParser):
    """The parts of a page the tests read: each table's rows as text, and every element's
    attributes by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[list[str]]]] = {}
        self.by_id: dict[str, dict[str, str]] = {}
        self.ids: list[str] = []
        self.labels: set[str] = set()
        self._table: str | None = None
        self._part = "tbody"
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if "id" in found:
            self.ids.append(found["id"])
            self.by_id[found["id"]] = found | {"tag": tag}
        if tag == "label" and "for" in found:
            self.labels.add(found["for"])
        if tag == "table":
            self._table = found.get("id", "")
            self.tables[self._table] = {"thead": [], "tbody": [], "tfoot": []}
        elif tag in ("thead", "tbody", "tfoot"):
            self._part = tag
        elif tag == "tr" and self._table is not None:
            self.tables[self._table][self._part].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            text = re.sub(r"[ \t\n]+", " ", "".join(self._cell)).strip()
            self.tables[self._table][self._part][-1].append(text)
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def rows(self, table: str) -> dict[str, list[str]]:
        """A table's body rows by their first cell."""
        return {cells[0]: cells[1:] for cells in self.tables[table]["tbody"]}


def statistics_service() -> FakeServices:
    fakes = FakeServices()
    fakes.on("statistics", "GET", "/statistics", (200, figures()))
    fakes.on("statistics", "GET", "/statistics/dimensions", (200, dimensions()))
    return fakes


async def opened(tmp_path: Path, fakes: FakeServices, path: str, who: str = "worker") -> str:
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys[who])
        answered = await client.get(path)
    assert answered.status_code == 200, answered.text
    return answered.text


def bars(html: str, section: str) -> list[str]:
    start = html.index(f'id="chart-{section}"')
    svg = html[start : html.index("</svg>", start)]
    return re.findall(r'<g class="bar[^"]*">.*?</g>', svg, flags=re.S)


async def test_every_section_is_a_chart_and_a_table_in_the_contracts_order(
    tmp_path: Path,
) -> None:
    html = await opened(tmp_path, statistics_service(), "/statistics")
    page = Page(html)
    assert [i.removeprefix("table-") for i in page.ids if i.startswith("table-")] == list(
        SECTION_IDS
    )
    for section in SECTION_IDS:
        svg = page.by_id[f"chart-{section}"]
        assert (svg["tag"], svg["role"]) == ("svg", "img")
        assert svg["aria-labelledby"] == f"chart-title-{section} chart-desc-{section}"
        assert page.by_id[f"chart-title-{section}"]["tag"] == "title"
        assert page.by_id[f"chart-desc-{section}"]["tag"] == "desc"
    assert page.rows("table-served_by_direction") == {
        "evdə sosial xidmət": ["15\u202f210"],
        "QHT layihəsi": ["3\u202f912"],
        "sosial xidmət müəssisəsi": ["982"],
    }
    assert page.tables["table-served_by_direction"]["tfoot"] == [["Cəmi", "20\u202f104"]]
    assert "versiya 2026-1, k = 5" in html


async def test_a_withheld_figure_reads_fewer_than_k_and_is_never_drawn_as_nought(
    tmp_path: Path,
) -> None:
    html = await opened(tmp_path, statistics_service(), "/statistics?lang=en")
    page = Page(html)
    assert page.rows("table-served_by_region")["East Zangezur"] == ["fewer than 5"]
    assert page.rows("table-served_by_district")["Laçın"] == ["fewer than 5"]
    assert page.rows("table-served_by_district")["Qubadlı"] == ["7"]
    assert page.rows("table-applications_by_outcome")["not yet decided"] == ["0"]
    assert page.rows("table-messages")["e-mail"] == ["Russian", "2,210", "fewer than 5"]
    [stub] = [bar for bar in bars(html, "served_by_region") if "East Zangezur" in bar]
    assert 'class="bar withheld"' in stub
    assert 'fill="url(#hatch-served_by_region)"' in stub
    assert "withheld-stub" in stub
    assert float(re.findall(r'width="([\d.]+)"', stub)[0]) >= 24
    assert ">fewer than 5</text>" in stub
    [zero] = [bar for bar in bars(html, "applications_by_outcome") if "not yet decided" in bar]
    assert re.search(r'width="0(\.0)?"', zero)
    assert ">0</text>" in zero
    desc = html[html.index('id="chart-desc-served_by_region"') :].split("</desc>")[0]
    assert "East Zangezur: fewer than 5" in desc
    assert "Baku: 7,321" in desc
    assert "Disclosure policy version 2026-1, k = 5." in html


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("", {}),
        (
            "from=2026-02&to=2026-05&region=Bak%C4%B1&district=X%C9%99tai&group=elderly"
            "&direction=home_care",
            {
                "from": "2026-02",
                "to": "2026-05",
                "region": "Bakı",
                "district": "Xətai",
                "group": "elderly",
                "direction": "home_care",
            },
        ),
        ("district=+Nəsimi+&lang=en&unknown=1", {"district": "Nəsimi"}),
    ],
)
async def test_the_filters_reach_the_service_as_chosen_with_the_persons_key(
    tmp_path: Path, query: str, sent: dict[str, str]
) -> None:
    fakes = statistics_service()
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["reviewer"])
        answered = await client.get(f"/statistics?{query}")
    assert answered.status_code == 200
    [call] = fakes.calls("statistics", "GET", "/statistics")
    assert dict(call.url.params) == sent
    assert call.headers["authorization"] == f"Bearer {keys['reviewer']}"
    page = Page(answered.text)
    for name, value in sent.items():
        assert f'<option value="{value}" selected>' in answered.text, name
    assert "csrf" not in answered.text.split('id="filters"')[1].split("</form>")[0]
    assert page.by_id["filters"]["method"] == "get"


@pytest.mark.parametrize(
    ("query", "said", "marked"),
    [
        ("from=2026-13", "The period's start is a year and month", {"from"}),
        ("to=26-01", "The period's end is a year and month", {"to"}),
        ("from=2026-06&to=2026-02", "The period cannot start after it ends", {"from", "to"}),
        ("region=Atlantis", "There is no such economic region", {"region"}),
        ("district=Atlantis", "There is no such district or city", {"district"}),
        (
            "region=Bak%C4%B1&district=G%C9%99nc%C9%99",
            "is not in the economic region",
            {"district"},
        ),
        ("group=wizards", "There is no such target group", {"group"}),
        ("direction=space", "There is no such kind of service", {"direction"}),
    ],
)
async def test_a_wrong_filter_is_said_and_marked_and_never_sent(
    tmp_path: Path, query: str, said: str, marked: set[str]
) -> None:
    fakes = statistics_service()
    html = await opened(tmp_path, fakes, f"/statistics?{query}&lang=en")
    assert fakes.calls("statistics", "GET", "/statistics") == []
    page = Page(html)
    assert said in unescape(html.split('id="filters-wrong"')[1].split("</div>")[0])
    assert page.by_id["filters-wrong"]["role"] == "alert"
    flagged = {i for i, attrs in page.by_id.items() if attrs.get("aria-invalid") == "true"}
    assert flagged == marked
    assert "table-served_by_direction" not in html


async def test_the_services_refusal_of_a_filter_is_shown_in_place(tmp_path: Path) -> None:
    fakes = statistics_service()
    refused = problem(422, "validation", "Invalid query", "district is not in the region")
    refused[1]["errors"] = [{"field": "district", "message": "not in Bakı"}]
    fakes.on("statistics", "GET", "/statistics", refused)
    html = await opened(tmp_path, fakes, "/statistics?district=Xətai")
    page = Page(html)
    assert page.by_id["problem-statistics"]["role"] == "alert"
    shown = html.split('id="problem-statistics"')[1].split("</div>")[0]
    assert "Bəzi dəyərlər qəbul edilmədi." in shown
    assert "district: not in Bakı" in shown
    assert 'id="filters"' in html
    assert "table-served_by_direction" not in html


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            problem(503, "unavailable", "Unavailable", "starting"),
            "Statistika xidməti bunu edə bilmədi",
        ),
        ((200, {"sections": "not a list"}), "Statistika xidməti cavab vermədi"),
    ],
)
async def test_a_failing_statistics_service_is_said_in_the_persons_language(
    tmp_path: Path, answer: tuple[int, Any], words: str
) -> None:
    fakes = statistics_service()
    fakes.on("statistics", "GET", "/statistics", answer)
    html = await opened(tmp_path, fakes, "/statistics")
    assert words in html
    assert 'id="filters"' in html


async def test_without_the_service_the_filters_still_offer_the_geography(tmp_path: Path) -> None:
    html = await opened(tmp_path, FakeServices(), "/statistics?lang=en")
    assert "The Statistics service does not offer this yet." in html
    assert '<option value="Şərqi Zəngəzur">East Zangezur</option>' in html
    assert '<option value="Laçın">Laçın</option>' in html
    assert '<option value="child_with_disability">child with a disability</option>' in html
    now = datetime.now(BAKU).strftime("%Y-%m")
    months = recent_months(datetime.now(UTC))
    assert (months[0], len(months), months == sorted(months, reverse=True)) == (now, 24, True)
    assert f'<option value="{now}">' in html


async def test_a_key_the_statistics_service_no_longer_takes_ends_the_session(
    tmp_path: Path,
) -> None:
    fakes = statistics_service()
    fakes.on("statistics", "GET", "/statistics", problem(401, "unauthorised", "No", "no"))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["operator"])
        ended = await client.get("/statistics")
        assert ended.headers["location"] == "/signin?ended=1"
        assert (await client.get("/statistics")).headers["location"] == "/signin"


FILES = {
    "csv": (b"section,direction=home_care,measure,value\nserved_by_direction,,people,<5\n", CSV),
    "xlsx": (b"PK\x03\x04" + bytes(range(256)) * 40, XLSX),
}


@pytest.mark.parametrize(
    ("kind", "upstream", "disposition"),
    [
        (
            "csv",
            'attachment; filename="statistics-2026-01-2026-12.csv"',
            'attachment; filename="statistics-2026-01-2026-12.csv"',
        ),
        (
            "xlsx",
            'attachment; filename="../../etc/passwd"',
            'attachment; filename="statistics-2026-01-2026-12.xlsx"',
        ),
    ],
)
async def test_an_export_is_passed_on_with_its_type_and_file_name(
    tmp_path: Path, kind: str, upstream: str, disposition: str
) -> None:
    content, media = FILES[kind]
    fakes = statistics_service()
    fakes.on_file(
        "statistics",
        f"/statistics/export.{kind}",
        content,
        {"content-type": media, "content-disposition": upstream},
    )
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["provider"])
        page = await client.get("/statistics?from=2026-01&to=2026-12")
        link = Page(page.text).by_id[f"export-{kind}"]["href"]
        assert link == f"/statistics/export.{kind}?from=2026-01&to=2026-12"
        answered = await client.get(link)
    assert answered.status_code == 200
    assert answered.content == content
    assert answered.headers["content-type"] == media
    assert answered.headers["content-disposition"] == disposition
    assert answered.headers["cache-control"] == "no-store"
    [call] = fakes.calls("statistics", "GET", f"/statistics/export.{kind}")
    assert dict(call.url.params) == {"from": "2026-01", "to": "2026-12"}
    assert call.headers["authorization"] == f"Bearer {keys['provider']}"


async def test_an_export_the_service_refuses_or_a_wrong_one_goes_back_to_the_page(
    tmp_path: Path,
) -> None:
    fakes = statistics_service()
    fakes.on("statistics", "GET", "/statistics/export.csv", problem(422, "v", "Bad month", "to"))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["worker"])
        refused = await client.get("/statistics/export.csv?to=2026-02&lang=en")
        assert refused.status_code == 422
        assert "Some values were not accepted." in refused.text
        assert 'id="problem-export"' in refused.text
        wrong = await client.get("/statistics/export.xlsx?from=2026-99")
        assert wrong.status_code == 303
        assert wrong.headers["location"] == "/statistics?from=2026-99"
        assert (await client.get("/statistics/export.pdf")).status_code == 404
    assert fakes.calls("statistics", "GET", "/statistics/export.xlsx") == []


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "az",
            [
                "Xidmət alanlar, xidmət növünə görə",
                "Yanvar 2026",
                "qorunan qruplar",
                "80 yaş və yuxarı",
                "qərar verilməyib",
                "heç bir hədəf qrupuna aid deyil",
                "cavab gözləyir",
                "baxılır",
                "Azərbaycan dili",
                "Şərqi Zəngəzur",
                "86,7 %",
                "30.06.2027",
            ],
        ),
        (
            "ru",
            [
                "Получатели услуг по видам услуг",
                "Январь 2026",
                "защищённые группы",
                "80 лет и старше",
                "решение не принято",
                "не относится ни к одной целевой группе",
                "ждёт ответа",
                "на рассмотрении",
                "азербайджанский",
                "Восточный Зангезур",
                "меньше 5",
            ],
        ),
        (
            "en",
            [
                "People served, by kind of service",
                "January 2026",
                "protected groups",
                "aged 80 and over",
                "not yet decided",
                "in no target group",
                "still open",
                "decision upheld",
                "Azerbaijani",
                "East Zangezur",
                "86.7 %",
                "Ümid gündüz mərkəzi",
            ],
        ),
    ],
)
async def test_every_value_is_in_the_pages_language(
    tmp_path: Path, language: str, words: list[str]
) -> None:
    html = await opened(tmp_path, statistics_service(), f"/statistics?lang={language}")
    assert f'<html lang="{language}">' in html
    for word in words:
        assert word in html, word
    assert "ngo-umid-1<" not in html
    assert ">undecided<" not in html
    assert ">protected<" not in html


async def test_the_funnel_names_each_kind_of_life_event_in_its_own_order(tmp_path: Path) -> None:
    html = await opened(tmp_path, statistics_service(), "/statistics?lang=en")
    page = Page(html)
    table = page.tables["table-proactive_by_kind"]
    assert table["thead"] == [
        [
            "Life event",
            "Life events",
            "Likely to qualify",
            "Offered",
            "Accepted",
            "Declined",
            "Lapsed",
            "Placed",
        ]
    ]
    # Every kind, in the contract's order, not the largest first.
    assert list(page.rows("table-proactive_by_kind")) == [
        "turned 65, living alone",
        "left a children's institution",
        "released from a penitentiary institution",
        "disability determined",
    ]
    assert page.rows("table-proactive_by_kind") == {
        "turned 65, living alone": ["3,120", "3,120", "3,050", "2,210", "402", "260", "1,980"],
        "left a children's institution": ["96", "96", "96", "61", "20", "15", "44"],
        "released from a penitentiary institution": [
            "2,410",
            "2,310",
            "2,290",
            "1,320",
            "610",
            "340",
            "910",
        ],
        "disability determined": [
            "8,040",
            "8,040",
            "7,990",
            "6,120",
            "fewer than 5",
            "11",
            "5,730",
        ],
    }
    assert table["tfoot"][0][0] == "Total"
    # The chart draws the funnel's ends: offered beside placed.
    legend = html.split('id="chart-proactive_by_kind"')[1].split('<g class="bar')[0]
    assert "Offered" in legend
    assert "Placed" in legend
    assert page.rows("table-proactive_by_district")["Laçın"] == [
        "6",
        *["fewer than 5"] * 3,
        "0",
        "0",
        "fewer than 5",
    ]


async def test_refusals_carry_the_sentence_the_citizen_is_told(tmp_path: Path) -> None:
    html = await opened(tmp_path, statistics_service(), "/statistics?lang=en")
    row = Page(html).rows("table-refusals_by_reason")["income above the need criterion"]
    assert row[0].startswith("Your household income per person is above the need criterion")
    assert row[1] == "510"


async def test_the_language_links_keep_the_filters(tmp_path: Path) -> None:
    html = await opened(tmp_path, statistics_service(), "/statistics?from=2026-02&group=elderly")
    assert 'href="?lang=ru&amp;from=2026-02&amp;group=elderly"' in html


@pytest.mark.parametrize(
    ("who", "home"), [("worker", "/queues"), ("operator", "/search"), ("provider", "/provider")]
)
async def test_every_role_is_led_to_the_figures(tmp_path: Path, who: str, home: str) -> None:
    fakes = statistics_service()
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys[who])
        other = await client.get(home)
        figures_page = await client.get("/statistics")
    assert Page(other.text).by_id["nav-statistics"]["href"] == "/statistics"
    assert figures_page.status_code == 200
    assert Page(figures_page.text).by_id["nav-statistics"]["aria-current"] == "page"


async def test_the_form_and_the_tables_can_be_used_by_keyboard_and_read_aloud(
    tmp_path: Path,
) -> None:
    html = await opened(tmp_path, statistics_service(), "/statistics")
    page = Page(html)
    assert len(page.ids) == len(set(page.ids)), "an id is used twice"
    for name in ("from", "to", "region", "district", "group", "direction"):
        assert page.by_id[name]["tag"] == "select"
        assert name in page.labels
    assert page.by_id["apply"]["type"] == "submit"
    assert '<optgroup label="Bakı">' in html
    assert '<option value="2026-12">Dekabr 2026</option>' in html
    for section in SECTION_IDS:
        table = html.split(f'id="table-{section}"')[1].split("</table>")[0]
        assert f'<caption id="caption-{section}">' in table
        assert '<th scope="col"' in table
        assert '<th scope="row">' in table
    assert "<script" not in html
    assert 'style="' not in html
