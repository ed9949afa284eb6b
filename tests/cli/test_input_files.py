"""Lead files as users export them: other separators, columns nothing maps, stray NUL bytes."""
import json

from test_cli import read_json, run, sandbox  # noqa: F401  (sandbox is a fixture)


def test_a_semicolon_csv_from_excel_is_enriched(tmp_path, sandbox):  # noqa: F811
    (tmp_path / "excel.csv").write_text(
        "Id;First Name;Last Name;Company;Email;Website;Umsatz\r\n"
        "de1;Jana;Müller;Acme, GmbH;jana@acme.com;https://www.acme.com;1,5\r\n"
        "de2;Omar;Haddad;Globex;omar@globex.io;globex.io;2,0\r\n", encoding="utf-8")
    r = run(["enrich", "-i", "excel.csv", "--format", "json"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    leads = read_json(tmp_path / "output" / "enriched_leads.json")
    assert [l["lead"]["lead_id"] for l in leads] == ["de1", "de2"]
    assert leads[0]["lead"]["name"] == "Jana Müller"
    assert leads[0]["lead"]["Umsatz"] == "1,5"
    assert [l["company_key"] for l in leads] == ["acme.com", "globex.io"]
    assert all(l["signals"]["company_overview"]["status"] != "skipped" for l in leads)


def test_columns_that_map_to_nothing_fail_with_exit_2_until_the_delimiter_is_given(tmp_path, sandbox):  # noqa: F811
    (tmp_path / "piped.csv").write_text("lead_id|email|website\np1|a@acme.com|acme.com\n", encoding="utf-8")
    r = run(["enrich", "-i", "piped.csv", "--format", "json"], tmp_path, env=sandbox.env())
    assert r.returncode == 2, r.stderr
    assert "no column maps to a lead field; columns found: 'lead_id|email|website'" in r.stderr
    assert sandbox.counters()["lookups"] == {} or sum(sandbox.counters()["lookups"].values()) == 0

    r = run(["enrich", "-i", "piped.csv", "--format", "json", "--delimiter", "|"], tmp_path, env=sandbox.env())
    assert r.returncode in (0, 1), r.stderr
    assert read_json(tmp_path / "output" / "enriched_leads.json")[0]["lead"]["lead_id"] == "p1"

    (tmp_path / "plain.csv").write_text("lead_id,email\nc1,a@acme.com\n", encoding="utf-8")
    for bad in ("ab", '"', ""):
        r = run(["enrich", "-i", "plain.csv", "--delimiter", bad], tmp_path, env=sandbox.env())
        assert r.returncode == 2, (bad, r.stderr)
        assert f"--delimiter '{bad}': expected one character" in r.stderr
    r = run(["enrich", "-i", "plain.csv", "--delimiter", "tab", "-o", "-"], tmp_path, env=sandbox.env())
    assert r.returncode == 2 and "columns found: 'lead_id,email'" in r.stderr


def test_a_row_with_a_nul_byte_is_a_bad_row(tmp_path, sandbox):  # noqa: F811
    (tmp_path / "nul.csv").write_bytes(b"lead_id,email\nn1,a@ac\x00me.com\nn2,b@acme.com\n")
    r = run(["enrich", "-i", "nul.csv", "-o", "-"], tmp_path, env=sandbox.env())
    assert r.returncode == 1, r.stderr
    assert "nul.csv:2: a NUL byte in column 'email' (skipped)" in r.stderr
    assert [json.loads(l)["lead"]["lead_id"] for l in r.stdout.splitlines()] == ["n2"]
