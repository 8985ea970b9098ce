"""The set-based write path on real PostgreSQL: one statement for many rows tells what was new,
submissions that arrive together share one transaction, and a batch of decisions is placed within
capacity in one transaction."""

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy
from sqlalchemy import Column, Integer, String, Table, Uuid, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel
from sqlmodel import select as model_select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import Registry, release
from assignment.placing import place_all
from assignment.providers import ProviderCache, ProviderRow, seed
from assignment.registry import load_providers
from assignment.store import TABLES as ASSIGNMENT_TABLES
from assignment.store import LedgerRow, PlacementRow, WaitlistRow
from intake.applications import (
    DuplicateApplication,
    IdempotencyKeyReused,
    Submission,
    Submit,
    submit_all,
)
from intake.consent_texts import load_consent_texts
from intake.store import TABLES as INTAKE_TABLES
from intake.store import ApplicationRow
from socialsvc_common.apikeys import Role
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.topics import DECISION_MADE
from socialsvc_common.db import (
    UtcDateTime,
    among,
    insert_new,
    make_engine,
    run,
    session_factory,
    transaction,
    update_rows,
    upsert,
)
from socialsvc_common.geography import load_geography
from socialsvc_common.group_commit import Apply, GroupCommit
from socialsvc_common.outbox import OutboxRow
from socialsvc_common.problems import Problem
from socialsvc_common.public_stream import PublicStream
from tests.e2e.applicants import application
from tests.harness import create_tables
from tests.unit.test_assignment_matching import decision

pytestmark = pytest.mark.integration
WAITLISTED = "assignment.placement.waitlisted"
KEY = b"k" * 32
WORKER = Actor(role=Role.SOCIAL_WORKER, name="set-based")
PAIRS = Table(
    "test_set_pairs",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String, nullable=False),
)
STAMPS = Table(
    "test_set_stamps",
    SQLModel.metadata,
    Column("id", Uuid, primary_key=True),
    Column("label", String, nullable=False),
    Column("order", Integer, nullable=True),
    Column("at", UtcDateTime(), nullable=True),
)


@pytest.fixture(params=["postgresql", "sqlite"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgresql":
        url = request.getfixturevalue("fresh_postgres")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'set.db'}"
    made = make_engine(url)
    async with made.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=[PAIRS, STAMPS])
    yield made
    await made.dispose()


async def test_insert_new_says_what_went_in_and_upsert_keeps_the_last(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        first = await insert_new(session, PAIRS, [{"id": 1, "label": "a"}], PAIRS.c.id)
    async with transaction(sessions) as session:
        rows = [{"id": 1, "label": "b"}, {"id": 2, "label": "c"}, {"id": 2, "label": "d"}]
        second = await insert_new(session, PAIRS, rows, PAIRS.c.id)
    assert (first, second) == ({1}, {2})
    async with transaction(sessions) as session:
        rows = [{"id": 1, "label": "x"}, {"id": 3, "label": "y"}, {"id": 1, "label": "z"}]
        await upsert(session, PAIRS, rows, key=["id"])
    async with sessions() as session:
        found = (await run(session, select(PAIRS).order_by(PAIRS.c.id))).all()
    assert [tuple(row) for row in found] == [(1, "z"), (2, "c"), (3, "y")]


async def test_update_rows_writes_each_row_its_own_values_in_one_statement(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    ids = [uuid4() for _ in range(4)]
    at = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)
    async with transaction(sessions) as session:
        rows = [{"id": i, "label": "old", "order": 1, "at": at} for i in ids]
        await run(session, STAMPS.insert(), rows)
    statements: list[str] = []
    sqlalchemy.event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    later = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    async with transaction(sessions) as session:
        changed = [
            {"id": ids[0], "label": "new", "order": None, "at": later},
            {"id": ids[2], "label": "ər", "order": 7, "at": None},
            {"id": uuid4(), "label": "nobody", "order": 0, "at": later},
        ]
        await update_rows(session, STAMPS, changed)
        await update_rows(session, STAMPS, [])
    async with sessions() as session:
        found = (await run(session, select(STAMPS))).all()
    assert {row.id: (row.label, row.order, row.at) for row in found} == {
        ids[0]: ("new", None, later),
        ids[1]: ("old", 1, at),
        ids[2]: ("ər", 7, None),
        ids[3]: ("old", 1, at),
    }
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    if engine.dialect.name == "postgresql":
        assert len(updates) == 1  # one statement for the three rows
        assert "unnest" in updates[0]


async def test_among_picks_the_rows_of_a_list_with_one_statement_for_every_length(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        await run(session, PAIRS.insert(), [{"id": n, "label": f"l{n}"} for n in range(1, 21)])
    statements: list[str] = []
    sqlalchemy.event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    chosen_lists = [[3], [1, 2, 19], list(range(5, 17)), [], [99, 20]]
    async with sessions() as session:
        for chosen in chosen_lists:
            query = select(PAIRS.c.label).where(among(PAIRS.c.id, chosen)).order_by(PAIRS.c.id)
            found = (await run(session, query)).scalars().all()
            assert found == [f"l{n}" for n in sorted(chosen) if n <= 20]
        outside = select(PAIRS.c.id).where(~among(PAIRS.c.label, ["l1", "l2"]), PAIRS.c.id < 5)
        assert sorted((await run(session, outside)).scalars()) == [3, 4]
    async with transaction(sessions) as session:
        gone = await run(session, PAIRS.delete().where(among(PAIRS.c.id, [1, 2, 3])))
    assert gone.rowcount == 3
    lookups = [s for s in statements if s.startswith("SELECT test_set_pairs.label")]
    assert len(lookups) == len(chosen_lists)
    if engine.dialect.name == "postgresql":
        # One text whatever the length: prepared once per connection, not once per batch size.
        assert len(set(lookups)) == 1
        assert "= ANY" in lookups[0]
    else:
        assert all(" IN (" in statement for statement in lookups)


@pytest.fixture
async def intake_engine(fresh_postgres: str) -> AsyncIterator[AsyncEngine]:
    made = make_engine(fresh_postgres)
    await create_tables(made, *INTAKE_TABLES)
    yield made
    await made.dispose()


def form(fin: str) -> p.ApplicationForm:
    body = application(0, random.Random(7))
    body["applicant"]["fin"] = fin
    return p.ApplicationForm.model_validate(body)


async def test_submissions_arriving_together_share_a_commit_and_get_their_own_answers(
    intake_engine: AsyncEngine,
) -> None:
    commits: list[object] = []
    sqlalchemy.event.listen(intake_engine.sync_engine, "commit", commits.append)
    sessions = session_factory(intake_engine)

    async def store(
        session: AsyncSession, commands: Sequence[Submit]
    ) -> list[Submission | Problem]:
        return await submit_all(
            session, commands, pseudonym_key=KEY, consent_texts=load_consent_texts()
        )

    group: GroupCommit[Submit, Submission] = GroupCommit(sessions, store)
    people = [f"{n:03d}ABC{n % 10}" for n in range(30)]
    commands = [Submit(form(fin), "web", f"key-{fin}", WORKER) for fin in people]
    # The same request again (a client retry), the same person under another key, and a key
    # reused for another person's form.
    commands += [
        Submit(form(people[0]), "web", f"key-{people[0]}", WORKER),
        Submit(form(people[1]), "web", "another-key", WORKER),
        Submit(form("9999AAA"), "web", f"key-{people[2]}", WORKER),
    ]
    answers = await asyncio.gather(*(group.submit(c) for c in commands), return_exceptions=True)
    new = answers[:30]
    assert all(isinstance(a, Submission) and a.created for a in new)
    retry, same_person, reused = answers[30:]
    assert isinstance(retry, Submission)
    assert not retry.created
    assert retry.application_id == new[0].application_id  # type: ignore[union-attr]
    assert isinstance(same_person, DuplicateApplication)
    assert same_person.first == new[1].application_id  # type: ignore[union-attr]
    assert isinstance(reused, IdempotencyKeyReused)
    # 33 requests, far fewer transactions: those that waited went together.
    assert len(commits) < 10
    async with sessions() as session:
        stored = (await session.exec(model_select(ApplicationRow.submitted_by))).all()
    assert stored == ["social_worker:set-based"] * 30
    first = new[0].events[0]  # type: ignore[union-attr]
    assert first.envelope.actor == WORKER


@pytest.fixture
async def assignment_engine(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    registry = tmp_path / "providers.toml"
    registry.write_text(
        '[[home_care]]\nid = "hc-test"\nname = "Test team"\ndistrict = "Xətai"\n'
        "caseload_limit = 2\n",
        encoding="utf-8",
    )
    made = make_engine(fresh_postgres)
    # Seeding writes each provider's public.provider.changed to the outbox.
    await create_tables(made, *ASSIGNMENT_TABLES, ProviderRow, OutboxRow)
    async with transaction(session_factory(made)) as session:
        await seed(session, load_providers(registry))
    yield made
    await made.dispose()


async def test_a_batch_of_decisions_is_placed_within_capacity_in_one_transaction(
    assignment_engine: AsyncEngine,
) -> None:
    geography = load_geography()
    registry = Registry(ProviderCache(geography), PublicStream("assignment", KEY))
    people = ["person-1", "person-2", "person-1", "person-3", "person-4"]
    decisions = [
        decision().model_copy(update={"person_ref": ref, "decided_at": datetime.now(UTC)})
        for ref in people
    ]
    batch = [
        Received(
            new_event(DECISION_MADE, d, producer="t", application_id=d.application_id).envelope, d
        )
        for d in decisions
    ]
    commits: list[object] = []
    sqlalchemy.event.listen(assignment_engine.sync_engine, "commit", commits.append)
    sessions = session_factory(assignment_engine)
    async with transaction(sessions) as session:
        events = await place_all(session, registry, [*batch, batch[0]])
    kinds = [e.envelope.type for e in events if e.topic.owner == "assignment"]
    # The first two take the team's two places; the first person's second application clashes
    # with the place they now hold; the others wait; the repeat of the first changes nothing.
    assert kinds == [
        "assignment.placement.made",
        "assignment.placement.made",
        "assignment.placement.refused",
        "assignment.placement.waitlisted",
        "assignment.placement.waitlisted",
    ]
    assert len(commits) == 1
    async with sessions() as session:
        ledger = await session.get(LedgerRow, "hc-test")
        placed = (await session.exec(model_select(PlacementRow))).all()
        waiting = (await session.exec(model_select(WaitlistRow))).all()
    assert ledger is not None
    assert ledger.used == 2
    assert {row.application_id for row in placed} == {d.application_id for d in decisions[:2]}
    assert {row.application_id for row in waiting} == {d.application_id for d in decisions[3:]}


async def test_a_later_decision_for_an_application_placed_or_waiting_changes_nothing(
    assignment_engine: AsyncEngine,
) -> None:
    """A new decision event (another event id) for an application already placed or waitlisted,
    as a replayed dead letter or a second decider would send, in a later batch."""
    geography = load_geography()
    registry = Registry(ProviderCache(geography), PublicStream("assignment", KEY))
    decisions = [
        decision().model_copy(update={"person_ref": f"person-{n}", "decided_at": datetime.now(UTC)})
        for n in range(3)
    ]

    def received(d: p.DecisionMade) -> Received[p.DecisionMade]:
        envelope = new_event(DECISION_MADE, d, producer="t", application_id=d.application_id)
        return Received(envelope.envelope, d)

    sessions = session_factory(assignment_engine)
    async with transaction(sessions) as session:
        first = await place_all(session, registry, [received(d) for d in decisions])
    assert len([e for e in first if e.topic.owner == "assignment"]) == 3
    async with transaction(sessions) as session:
        again = await place_all(session, registry, [received(d) for d in decisions])
    assert again == []
    async with sessions() as session:
        placed = (await session.exec(model_select(PlacementRow))).all()
        waiting = (await session.exec(model_select(WaitlistRow))).all()
        ledger = await session.get(LedgerRow, "hc-test")
    assert len(placed) == 2
    assert len(waiting) == 1
    assert ledger is not None
    assert ledger.used == 2


async def test_a_decision_an_appeal_made_is_placed_again_once_after_an_earlier_placement_ended(
    assignment_engine: AsyncEngine,
) -> None:
    """An overturn's decision (appeal_id set) passes where a plain repeat is skipped: after the
    application's placement ended, or its waitlist entry was left; but not while the application
    holds a place or waits, so the same appeal decision twice places once."""
    registry = Registry(ProviderCache(load_geography()), PublicStream("assignment", KEY))
    sessions = session_factory(assignment_engine)
    first = [
        decision().model_copy(update={"person_ref": f"{n:032x}", "decided_at": datetime.now(UTC)})
        for n in range(3)
    ]

    def received(d: p.DecisionMade) -> Received[p.DecisionMade]:
        envelope = new_event(DECISION_MADE, d, producer="t", application_id=d.application_id)
        return Received(envelope.envelope, d)

    def appealed(d: p.DecisionMade) -> p.DecisionMade:
        return d.model_copy(update={"appeal_id": uuid4(), "decided_at": datetime.now(UTC)})

    async def step(batch: list[p.DecisionMade]) -> list[str]:
        async with transaction(sessions) as session:
            events = await place_all(session, registry, [received(d) for d in batch])
        return [e.envelope.type for e in events if e.topic.owner == "assignment"]

    async def end(application: p.DecisionMade) -> None:
        async with sessions() as session:
            query = model_select(PlacementRow).where(
                PlacementRow.application_id == application.application_id,
                PlacementRow.active == True,  # noqa: E712
            )
            placement = (await session.exec(query)).one()
        async with transaction(sessions) as session:
            await release(session, registry, placement.id, "declined")

    assert await step(first) == [*["assignment.placement.made"] * 2, WAITLISTED]
    await end(first[0])  # the place goes to the third person, who leaves the waitlist
    overturn = appealed(first[0])
    # The overturn of the first passes (no room: it waits); a plain repeat of the first and an
    # overturn for the second, who holds a place, change nothing.
    assert await step([overturn, first[0], appealed(first[1])]) == [WAITLISTED]
    assert await step([overturn]) == []
    await end(first[2])  # the first person, waiting again, takes the place
    # The third person's waitlist entry, left when placed, takes them back.
    assert await step([appealed(first[2])]) == [WAITLISTED]
    async with sessions() as session:
        placed = (await session.exec(model_select(PlacementRow))).all()
        waiting = (await session.exec(model_select(WaitlistRow))).all()
    active = {row.application_id for row in placed if row.active}
    assert active == {first[0].application_id, first[1].application_id}
    assert len(placed) == 4
    assert {row.application_id for row in waiting if row.waiting} == {first[2].application_id}


async def test_a_command_that_breaks_its_group_fails_alone(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)

    async def write(session: AsyncSession, labels: Sequence[str]) -> list[int | Exception]:
        if "broken" in labels:
            raise RuntimeError("this group cannot be written")
        ids = [100 + len(label) for label in labels]
        rows = [{"id": i, "label": label} for i, label in zip(ids, labels, strict=True)]
        new = await insert_new(session, PAIRS, rows, PAIRS.c.id)
        return [i if i in new else KeyError(i) for i in ids]

    group: GroupCommit[str, int] = GroupCommit(sessions, write)
    labels = ["a", "bb", "broken", "dddd"]
    answers = await asyncio.gather(
        *(group.submit(label) for label in labels), return_exceptions=True
    )
    assert [type(a).__name__ for a in answers] == ["int", "int", "RuntimeError", "int"]
    async with sessions() as session:
        stored = (await run(session, select(PAIRS.c.label).order_by(PAIRS.c.id))).scalars().all()
    assert stored == ["a", "bb", "dddd"]


@pytest.mark.parametrize(("linger", "transactions"), [(0.0, 3), (1.0, 1)])
async def test_a_linger_gathers_commands_that_come_apart(
    engine: AsyncEngine, linger: float, transactions: int
) -> None:
    # Three commands 0.2 s apart: each commits alone without a linger, all in one with it.
    sessions = session_factory(engine)
    groups: list[list[str]] = []
    group: GroupCommit[str, int] = GroupCommit(sessions, _numbered(groups), linger_seconds=linger)

    async def later(label: str, seconds: float) -> int:
        await asyncio.sleep(seconds)
        return await group.submit(label)

    answers = await asyncio.gather(*(later(label, n * 0.2) for n, label in enumerate("xyz")))
    assert len(groups) == transactions
    assert [label for labels in groups for label in labels] == ["x", "y", "z"]
    assert len(set(answers)) == 3


async def test_a_full_batch_ends_the_linger(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    groups: list[list[str]] = []
    group: GroupCommit[str, int] = GroupCommit(
        sessions, _numbered(groups), max_batch=3, linger_seconds=30
    )

    async def one_by_one() -> list[int]:
        first = asyncio.ensure_future(group.submit("a"))
        await asyncio.sleep(0.1)  # the writer lingers now
        rest = [asyncio.ensure_future(group.submit(label)) for label in "bc"]
        return list(await asyncio.gather(first, *rest))

    answers = await asyncio.wait_for(one_by_one(), 10)
    assert groups == [["a", "b", "c"]]
    assert len(set(answers)) == 3


def _numbered(groups: list[list[str]]) -> Apply[str, int]:
    """Stores each group's labels under ids of their own, and keeps the groups in `groups`."""

    async def write(session: AsyncSession, labels: Sequence[str]) -> list[int | Exception]:
        groups.append(list(labels))
        ids = [200 + len(groups) * 10 + n for n in range(len(labels))]
        rows = [{"id": i, "label": label} for i, label in zip(ids, labels, strict=True)]
        await insert_new(session, PAIRS, rows, PAIRS.c.id)
        return list(ids)

    return write
