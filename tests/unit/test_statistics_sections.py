"""The figures' pure parts: disclosure control per section, the filters, the rows events become,
and the exports' shape (the workbook read back from its XML)."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from xml.etree import ElementTree

import pytest

from ministry_statistics import facts
from ministry_statistics.exports import csv_text, xlsx_bytes
from ministry_statistics.filters import parse_filters
from ministry_statistics.sections import Kind, Measure, Nesting, Row, Section, disclose
from socialsvc_common.consumer import Rejected
from socialsvc_common.contract import payloads as p
from socialsvc_common.disclosure import DisclosurePolicy
from socialsvc_common.geography import load_geography
from socialsvc_common.problems import Problem

POLICY = DisclosurePolicy(
    version="t",
    min_cell=5,
    sensitive_groups=frozenset({p.TargetGroup.TRAFFICKING_VICTIM}),
    public_time_minutes=60,
)
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def people(counts: dict[str, int], total: bool = True) -> Section:
    rows = [Row({"direction": key}, {"people": n}) for key, n in counts.items()]
    return Section(
        "served_by_direction",
        ("direction",),
        (Measure("people"),),
        rows,
        {"people": sum(counts.values())} if total else None,
    )


def shown(answer: dict[str, Any], measure: str = "people") -> dict[str, Any]:
    return {row["keys"]["direction"]: row["values"][measure] for row in answer["rows"]}


def test_a_lone_small_cell_beside_a_total_takes_the_next_smallest_with_it() -> None:
    answer = disclose(people({"home_care": 40, "residential": 3, "ngo_project": 9}), POLICY)
    assert shown(answer) == {"home_care": 40, "residential": None, "ngo_project": None}
    assert answer["rows"][1]["suppressed"] == ["people"]
    assert answer["total"] == {"values": {"people": 52}, "suppressed": []}


def test_without_a_total_only_the_small_cell_is_withheld() -> None:
    answer = disclose(people({"a": 40, "b": 3, "c": 9}, total=False), POLICY)
    assert shown(answer) == {"a": 40, "b": None, "c": 9}
    assert "total" not in answer


def test_zero_is_shown_and_a_small_total_is_withheld() -> None:
    answer = disclose(people({"a": 0, "b": 4}), POLICY)
    assert shown(answer) == {"a": 0, "b": None}
    assert answer["rows"][0]["suppressed"] == []
    assert answer["total"] == {"values": {"people": None}, "suppressed": ["people"]}


def test_a_median_on_fewer_than_k_is_withheld_and_a_derived_value_with_its_source() -> None:
    section = Section(
        "x",
        ("direction",),
        (
            Measure("people"),
            Measure("median_days", Kind.STATISTIC, "started"),
            Measure("fill_percent", Kind.DERIVED, "people"),
            Measure("capacity", Kind.PLAIN),
        ),
        [
            Row(
                {"direction": "a"},
                {"people": 2, "median_days": 7, "fill_percent": 20.0, "capacity": 10},
                {"started": 2},
            ),
            Row(
                {"direction": "b"},
                {"people": 8, "median_days": 4, "fill_percent": 80.0, "capacity": 10},
                {"started": 8},
            ),
        ],
    )
    a, b = disclose(section, POLICY)["rows"]
    assert a["values"] == {
        "people": None,
        "median_days": None,
        "fill_percent": None,
        "capacity": 10,
    }
    assert a["suppressed"] == ["people", "median_days", "fill_percent"]
    assert b["values"] == {"people": 8, "median_days": 4, "fill_percent": 80.0, "capacity": 10}
    assert b["suppressed"] == []


def test_filters_default_to_this_year_and_name_the_bad_field() -> None:
    geography = load_geography()
    default = parse_filters(geography, NOW)
    assert (default.first, default.last) == ("2026-01", "2026-12")
    # Months are Baku's: 2026-03 starts at 20:00 UTC on the last day of February.
    march = parse_filters(geography, NOW, first="2026-03", last="2026-03")
    assert march.start == datetime(2026, 2, 28, 20, 0, tzinfo=UTC)
    assert march.end == datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    december = parse_filters(geography, NOW, first="2026-12", last="2026-12")
    assert december.end == datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    place = parse_filters(geography, NOW, region="naxçıvan", district=" Babək ")
    assert (place.region, place.district) == ("Naxçıvan", "Babək")
    for field, query in [
        ("from", {"first": "2026-1"}),
        ("to", {"last": "2026-00"}),
        ("district", {"region": "Naxçıvan", "district": "Xətai"}),
        ("group", {"group": "elderly "}),
    ]:
        with pytest.raises(Problem) as refused:
            parse_filters(geography, NOW, **query)
        assert refused.value.status == 422
        assert refused.value.extra["errors"][0]["field"] == field


def test_a_placement_told_in_any_order_fills_one_row() -> None:
    ref, placement = uuid4(), uuid4()
    started = facts.placement_row(placement, ref, "hc", started_at=NOW, started_month="2026-12")
    made = facts.placement_row(placement, ref, "hc", provision_type="home_care", offered_at=NOW)
    for order in ([started, made], [made, started]):
        (row,) = facts.combined(order, ["placement_id"])
        assert row["provision_type"] == "home_care"
        assert row["offered_at"] == NOW
        assert row["started_at"] == NOW


def test_the_latest_decision_wins_whatever_the_order() -> None:
    ref = uuid4()

    def decision(minutes: int) -> p.DecisionMade:
        return p.DecisionMade(
            application_id=uuid4(),
            decided_at=NOW + timedelta(minutes=minutes),
            outcome=p.Outcome.ELIGIBLE,
            rule_set_version="2026-1",
            district="Babək",
        )

    def at(made: p.DecisionMade) -> datetime:
        return made.decided_at

    early, late = decision(1), decision(9)
    assert facts.latest_of([(ref, late), (ref, early)], {}, at)[ref] is late
    assert facts.latest_of([(ref, early), (ref, late)], {}, at)[ref] is late
    assert facts.latest_of([(ref, early)], {ref: late.decided_at}, at) == {}


def prescreen(district: str, outcome: p.Prescreen = p.Prescreen.LIKELY) -> p.PrescreenMade:
    return p.PrescreenMade(
        life_event_id=uuid4(),
        registry=p.Registry.POPULATION,
        kind=p.LifeEventKind.TURNED_65_LIVING_ALONE,
        district=district,
        # 21:30 in Baku on the last day of March: April's.
        screened_at=datetime(2026, 3, 31, 20, 30, tzinfo=UTC),
        outcome=outcome,
        rule_set_version="2026.1",
        groups=[p.TargetGroup.ELDERLY_ALONE],
        provision_types=[p.ProvisionType.HOME_CARE],
    )


def test_a_life_event_is_counted_in_its_place_as_the_geography_names_it() -> None:
    ref = uuid4()
    row = facts.life_event_row(ref, prescreen(" Babək "), load_geography())
    assert row == {
        "ref": ref,
        "kind": "turned_65_living_alone",
        "district": "Babək",
        "region": "Naxçıvan",
        "screened_at": datetime(2026, 3, 31, 20, 30, tzinfo=UTC),
        "screened_month": "2026-04",
        "outcome": "likely",
    }
    with pytest.raises(Rejected, match="Narnia"):
        facts.life_event_row(ref, prescreen("Narnia"), load_geography())


REFS = facts.Refs(b"test-key")


def offer(status: p.OfferStatus, minutes: int, application: UUID | None = None) -> p.OfferUpdated:
    return p.OfferUpdated(
        offer_id=LIFE_EVENT,
        kind=p.LifeEventKind.TURNED_65_LIVING_ALONE,
        status=status,
        updated_at=NOW + timedelta(minutes=minutes),
        answer_by=date(2027, 1, 5),
        application_id=application,
    )


LIFE_EVENT, APPLICATION = uuid4(), uuid4()


def test_an_offer_is_known_by_the_pseudonyms_of_its_life_event_and_application() -> None:
    made = facts.offer_row(REFS, offer(p.OfferStatus.OFFERED, 0))
    assert made == {
        "ref": REFS(LIFE_EVENT),
        "status": "offered",
        "offered_at": NOW,
        "updated_at": NOW,
        "application_ref": None,
    }
    accepted = facts.offer_row(REFS, offer(p.OfferStatus.ACCEPTED, 5, APPLICATION))
    assert accepted["application_ref"] == REFS(APPLICATION) != APPLICATION
    assert accepted["offered_at"] is None
    assert LIFE_EVENT not in accepted.values()


def test_an_offers_latest_status_wins_and_its_first_offer_stays_whatever_the_order() -> None:
    """Offered, accepted, open again when its application was refused, then declined."""
    told = [
        facts.offer_row(REFS, offer(p.OfferStatus.OFFERED, 0)),
        facts.offer_row(REFS, offer(p.OfferStatus.ACCEPTED, 5, APPLICATION)),
        facts.offer_row(REFS, offer(p.OfferStatus.OFFERED, 60)),
        facts.offer_row(REFS, offer(p.OfferStatus.DECLINED, 90)),
    ]
    for order in (told, told[::-1], [told[1], told[3], told[0], told[2]]):
        (row,) = facts.offers(order)
        assert row["status"] == "declined"
        assert row["updated_at"] == NOW + timedelta(minutes=90)
        assert row["offered_at"] == NOW
        assert row["application_ref"] is None
    (reopened,) = facts.offers(told[2::-1])
    assert (reopened["status"], reopened["application_ref"]) == ("offered", None)
    (accepted,) = facts.offers([told[1], told[0]])
    assert (accepted["status"], accepted["application_ref"]) == ("accepted", REFS(APPLICATION))
    assert accepted["offered_at"] == NOW


def test_a_message_that_another_channel_follows_is_not_counted() -> None:
    failed = p.NotificationFailed(
        application_id=uuid4(),
        notification_id=uuid4(),
        channel=p.Channel.SMS,
        failed_at=NOW,
        reason="x",
        final=False,
    )
    assert facts.message_row(uuid4(), failed) is None
    final = facts.message_row(uuid4(), failed.model_copy(update={"final": True}))
    assert final is not None
    assert final["failed_at"] == NOW
    assert final["delivered_at"] is None


def test_a_withdrawal_excludes_from_the_figures_only_for_the_statistics_purpose() -> None:
    withdrawn = p.ConsentWithdrawn(
        application_id=uuid4(),
        withdrawn_at=NOW,
        reason=p.WithdrawalReason.OTHER,
        text_version="1",
        purposes=[p.ConsentPurpose.CONTACT],
        withdrawn_by="social_worker:x",
    )
    assert facts.withdrawal_row(uuid4(), withdrawn)["for_statistics"] is False
    statistics = withdrawn.model_copy(update={"purposes": [p.ConsentPurpose.STATISTICS]})
    assert facts.withdrawal_row(uuid4(), statistics)["for_statistics"] is True


def test_month_of_is_the_month_in_baku() -> None:
    assert facts.month_of(datetime(2026, 3, 31, 20, 30, tzinfo=UTC)) == "2026-04"
    assert facts.month_of(datetime(2026, 3, 31, 19, 30, tzinfo=UTC)) == "2026-03"


def exported() -> dict[str, Any]:
    messages = Section(
        "messages",
        ("channel", "language"),
        (Measure("delivered"), Measure("failed")),
        [
            Row({"channel": "sms", "language": "az"}, {"delivered": 30, "failed": 2}),
            Row({"channel": "email", "language": None}, {"delivered": 12, "failed": 0}),
        ],
        {"delivered": 42, "failed": 2},
    )
    projects = Section(
        "ngo_projects",
        ("provider",),
        (
            Measure("capacity", Kind.PLAIN),
            Measure("in_service"),
            Measure("contract_end", Kind.PLAIN),
        ),
        [
            Row(
                {"provider": "p1", "organisation": "Org", "name": "P"},
                {"capacity": 10, "in_service": 3, "contract_end": date(2027, 1, 1).isoformat()},
            )
        ],
    )
    return {
        "filters": {
            "from": "2026-01",
            "to": "2026-12",
            "region": None,
            "district": None,
            "group": None,
            "direction": None,
        },
        "policy": {"version": "t", "min_cell": 5},
        "as_of": "2026-12-06T10:00:00Z",
        "sections": [disclose(messages, POLICY), disclose(projects, POLICY)],
    }


def test_the_csv_is_long_and_writes_withheld_values_as_less_than_k() -> None:
    lines = list(csv.reader(io.StringIO(csv_text(exported()))))
    assert lines[:4] == [
        ["messages", "channel=sms", "language=az", "delivered", "30"],
        ["messages", "channel=sms", "language=az", "failed", "<5"],
        ["messages", "channel=email", "language=", "delivered", "12"],
        ["messages", "channel=email", "language=", "failed", "0"],
    ]
    assert ["messages", "total", "failed", "<5"] in lines
    assert [
        "ngo_projects",
        "provider=p1",
        "organisation=Org",
        "name=P",
        "in_service",
        "<5",
    ] in lines
    assert ["ngo_projects", "provider=p1", "organisation=Org", "name=P", "capacity", "10"] in lines


def test_the_workbook_has_an_about_sheet_then_one_per_section_with_a_header() -> None:
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(exported()))) as package:
        book = ElementTree.fromstring(package.read("xl/workbook.xml"))  # noqa: S314 - our own output
        strings = [
            t.text
            for t in ElementTree.fromstring(package.read("xl/sharedStrings.xml")).iter(f"{main}t")  # noqa: S314
        ]
        messages = ElementTree.fromstring(package.read("xl/worksheets/sheet2.xml"))  # noqa: S314
    assert [s.attrib["name"] for s in book.iter(f"{main}sheet")] == [
        "about",
        "messages",
        "ngo_projects",
    ]
    rows = [
        [
            strings[int(c.findtext(f"{main}v") or 0)]
            if c.get("t") == "s"
            else c.findtext(f"{main}v")
            for c in row.iter(f"{main}c")
        ]
        for row in messages.iter(f"{main}row")
    ]
    assert rows[0] == ["channel", "language", "delivered", "failed"]
    assert rows[1] == ["sms", "az", "30", "<5"]
    assert rows[-1][0] == "total"
    assert rows[-1][-1] == "<5"
    assert {"policy_version", "min_cell", "from"} <= set(strings)


FUNNEL = Nesting(chain=("events", "likely", "placed"), parts=(("likely", ("yes", "no")),))


@pytest.mark.parametrize(
    ("counts", "hidden"),
    [
        # 20 events, 19 likely: the one unlikely person shows; so would 20 - 18 via placed.
        ({"events": 20, "likely": 19, "placed": 18, "yes": 9, "no": 10}, ["likely", "placed"]),
        # Differences of 5 or more, or none, tell nothing.
        ({"events": 20, "likely": 15, "placed": 15, "yes": 7, "no": 8}, []),
        # 15 likely, 7 + 6 answered: 2 left unanswered; the smaller part goes.
        ({"events": 20, "likely": 15, "placed": 10, "yes": 7, "no": 6}, ["no"]),
    ],
)
def test_a_small_difference_between_nested_counts_is_withheld(
    counts: dict[str, int], hidden: list[str]
) -> None:
    assert FUNNEL.hidden(counts, [], 5) == hidden


def test_a_step_withheld_for_its_difference_gets_a_second_in_its_column_under_a_total() -> None:
    measures = tuple(Measure(name) for name in ("events", "likely", "placed", "yes", "no"))
    counts = [
        {"events": 20, "likely": 19, "placed": 15, "yes": 9, "no": 10},  # one unlikely
        {"events": 30, "likely": 20, "placed": 15, "yes": 10, "no": 10},
        {"events": 40, "likely": 30, "placed": 15, "yes": 15, "no": 15},
    ]
    rows = [Row({"place": str(i)}, dict(c)) for i, c in enumerate(counts)]
    total = {name: sum(c[name] for c in counts) for name in counts[0]}
    section = Section("funnel", ("place",), measures, rows, total, FUNNEL)
    shown = disclose(section, POLICY)
    likely = [row["values"]["likely"] for row in shown["rows"]]
    # Row 0's likely is withheld, and with it the smallest other, so the total does not give
    # it away; row 0's placed differs from its 20 events by 5, so it stays.
    assert likely == [None, None, 30]
    assert shown["rows"][0]["values"]["placed"] == 15
    assert shown["total"]["values"]["likely"] == 69
