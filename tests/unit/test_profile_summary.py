"""The profile summary reads py-spy's raw format: shares by innermost package and our functions."""

from pathlib import Path

from benchmarks.profile_summary import package, summarise


def test_shares_by_innermost_package_and_by_our_functions(tmp_path: Path) -> None:
    raw = tmp_path / "intake.txt"
    raw.write_text(
        "run (socialsvc_common/service.py:10);submit_all (intake/applications.py:5);"
        "execute (asyncpg/connection.py:3) 3\n"
        "run (socialsvc_common/service.py:10);loads (json/decoder.py:1) 1\n",
        encoding="utf-8",
    )
    lines = summarise(raw)
    assert lines[0] == "## intake: 4 samples"
    assert lines[1] == "  innermost frame by package: asyncpg 75%, json 25%"
    assert "  100.0%  run [socialsvc_common]" in lines
    assert "   75.0%  submit_all [intake]" in lines
    assert package("<module> (<frozen runpy>:88)") == "stdlib"
