"""Data-file tools through the HTTP API: csv-excel, csv-json, json-xml, yaml-json, split-csv, merge-csvs,
xml-to-csv. Each test checks the converted content, not just the status."""

from __future__ import annotations

import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import yaml
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.engine.media.sniff import sniff_bytes
from tests.tools.files.helpers import fetch, post, refused, run, unzip, xlsx

CSV = b"id,name,score\n007,Alice,9.5\n2,Bob,12\n3,=cmd|' /C calc'!A0,-4\n"


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_text_formats_are_told_apart_by_content() -> None:
    assert sniff_bytes(CSV) == "csv"
    assert sniff_bytes(b"a;b\n1;2\n") == "csv"
    assert sniff_bytes(b'[{"a": 1}]') == "json"
    assert sniff_bytes(b'<?xml version="1.0"?><r><i/></r>') == "xml"
    assert sniff_bytes(b"<!DOCTYPE html><html><body>x</body></html>") == "html"
    assert sniff_bytes(b"name: x\nitems:\n  - a\n") == "yaml"
    assert sniff_bytes(b"# Title\n\nSome **bold** text\n") == "markdown"
    assert sniff_bytes(b"Just words.\nMore words here") == "txt"
    assert sniff_bytes(b"{\\rtf1\\ansi hi}") == "rtf"
    assert sniff_bytes(b"\x01\x02\x00\xff\xfe binary") is None


def test_csv_excel_both_ways(av: TestClient) -> None:
    body = run(av, "csv-excel", [("scores.csv", CSV)])
    assert body["direction"] == "csv-to-xlsx" and body["rows"] == 4
    assert body["downloadUrl"].split("?")[0].endswith("/scores.xlsx")
    book = load_workbook(io.BytesIO(fetch(av, body)))
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["id", "name", "score"]
    # Leading zeros stay text, plain numbers become numbers, "=..." stays text (never a formula).
    assert [c.value for c in sheet[2]] == ["007", "Alice", 9.5]
    assert sheet["A3"].value == 2 and sheet["C4"].value == -4
    assert sheet["B4"].value == "=cmd|' /C calc'!A0" and sheet["B4"].data_type == "s"

    workbook = xlsx([["a", "b"], [1, 2]], ("Second", [["city", "pop"], ["Oslo", 700000], ["Bergen", 285000.5]]))
    body = run(av, "csv-excel", [("book.xlsx", workbook)], {"sheet": 2})
    assert body["direction"] == "xlsx-to-csv" and body["sheetName"] == "Second" and body["sheets"] == 2
    assert rows_of(fetch(av, body)) == [["city", "pop"], ["Oslo", "700000"], ["Bergen", "285000.5"]]
    first = run(av, "csv-excel", [("book.xlsx", workbook)])
    assert rows_of(fetch(av, first)) == [["a", "b"], ["1", "2"]]

    refused(post(av, "csv-excel", [("book.xlsx", workbook)], {"sheet": 3}), 400)
    body = refused(post(av, "csv-excel", [("book.xlsx", workbook)], {"sheet": 0}), 400, "VALIDATION_ERROR")
    assert "sheet" in body["details"]
    # A truncated workbook is refused (its ZIP directory is gone: it is no longer known as XLSX).
    refused(post(av, "csv-excel", [("book.xlsx", workbook[: len(workbook) // 2])]), 415)
    # A PDF is not a spreadsheet: 415.
    refused(post(av, "csv-excel", [("x.csv", b"%PDF-1.4\n%%EOF\n")]), 415)


def test_csv_json_both_ways(av: TestClient) -> None:
    body = run(av, "csv-json", [("scores.csv", CSV)])
    assert body["direction"] == "csv-to-json" and body["rows"] == 3
    raw = fetch(av, body)
    records = json.loads(raw)
    assert records[0] == {"id": "007", "name": "Alice", "score": "9.5"}
    assert b'\n  {\n    "id"' in raw  # pretty by default
    compact = fetch(av, run(av, "csv-json", [("scores.csv", CSV)], {"pretty": False}))
    assert b"\n" not in compact.strip() and json.loads(compact) == records

    nested = json.dumps({"people": [{"name": "Ann", "address": {"city": "Oslo"}, "tags": ["a", "b"]},
                                    {"name": "Bo", "age": 4}]}).encode()  # fmt: skip
    body = run(av, "csv-json", [("people.json", nested)])
    assert body["direction"] == "json-to-csv"
    assert rows_of(fetch(av, body)) == [
        ["name", "address.city", "tags", "age"],
        ["Ann", "Oslo", '["a", "b"]', ""],
        ["Bo", "", "", "4"],
    ]
    refused(post(av, "csv-json", [("bad.json", b'{"a": [1, 2')]), 400)
    assert post(av, "csv-json", [("scalar.json", b'{"a": 1, "b": 2, "c": {"d": [1]}, "e": [2]}')]).status_code in (
        200,
        422,
    )


def test_json_xml_both_ways_and_xxe(av: TestClient) -> None:
    source = {"library": {"book": [{"@id": "1", "title": "Dune"}, {"@id": "2", "title": "Emma"}], "name": "Main"}}
    body = run(av, "json-xml", [("lib.json", json.dumps(source).encode())])
    xml = fetch(av, body).decode()
    assert body["direction"] == "json-to-xml" and body["root"] == "library"
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert '<book id="1">' in xml and "<title>Dune</title>" in xml and "\n  <book" in xml
    back = run(av, "json-xml", [("lib.xml", xml.encode())])
    assert back["direction"] == "xml-to-json"
    assert json.loads(fetch(av, back)) == source

    # XXE: the entity is refused, /etc/passwd is never read into the result.
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
           b"<r><a>&xxe;</a></r>")  # fmt: skip
    r = post(av, "json-xml", [("evil.xml", xxe)])
    assert 400 <= r.status_code < 500 and "root:" not in r.text
    # Network XXE: an external DTD on a local server is never requested.
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY x "pwned">')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        remote = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/e.dtd"><r><a>&x;</a></r>'
        r = post(av, "json-xml", [("evil.xml", remote.encode())])
        assert 400 <= r.status_code < 500
        r = post(av, "xml-to-csv", [("evil.xml", xxe)])
        assert 400 <= r.status_code < 500 and "root:" not in r.text
    finally:
        server.shutdown()
    assert hits == []
    # Billion laughs: refused, quickly.
    laughs = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>'
    refused(post(av, "json-xml", [("lol.xml", laughs)]), 400)


def test_yaml_json_both_ways(av: TestClient) -> None:
    source = b"name: Lutra\nversion: 1.5\nfeatures:\n  - pdf\n  - files\nowner:\n  team: media\n"
    body = run(av, "yaml-json", [("conf.yaml", source)])
    assert body["direction"] == "yaml-to-json"
    value = json.loads(fetch(av, body))
    assert value == {"name": "Lutra", "version": 1.5, "features": ["pdf", "files"], "owner": {"team": "media"}}
    back = run(av, "yaml-json", [("conf.json", json.dumps(value).encode())])
    assert back["direction"] == "json-to-yaml" and back["downloadUrl"].split("?")[0].endswith(".yaml")
    assert yaml.safe_load(fetch(av, back)) == value

    # Python object tags are refused by safe_load: nothing is constructed or run.
    r = post(av, "yaml-json", [("evil.yaml", b"a: !!python/object/apply:os.system ['touch /tmp/pwned']\n")])
    refused(r, 400)
    # Alias bombs are bounded.
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join(f"*{chr(97 + i)}" for _ in range(10)) + "]\n" for i in range(8)
    )
    refused(post(av, "yaml-json", [("bomb.yaml", bomb.encode())]), 400)
    refused(post(av, "yaml-json", [("doc.xml", b'<?xml version="1.0"?><r/>')]), 415)


def test_split_csv(av: TestClient) -> None:
    rows = "n,sq\n" + "".join(f"{i},{i * i}\n" for i in range(1, 26))
    body = run(av, "split-csv", [("nums.csv", rows.encode())], {"rowsPerFile": 10})
    assert body["parts"] == 3 and body["rows"] == 25
    parts = unzip(fetch(av, body))
    assert sorted(parts) == ["nums-0001.csv", "nums-0002.csv", "nums-0003.csv"]
    assert rows_of(parts["nums-0001.csv"])[:2] == [["n", "sq"], ["1", "1"]]
    assert len(rows_of(parts["nums-0001.csv"])) == 11 and rows_of(parts["nums-0003.csv"])[-1] == ["25", "625"]
    assert len(rows_of(parts["nums-0003.csv"])) == 6

    body = run(av, "split-csv", [("nums.csv", rows.encode())], {"rowsPerFile": 13, "keepHeader": False})
    parts = unzip(fetch(av, body))
    assert rows_of(parts["nums-0001.csv"])[0] == ["n", "sq"]  # the header is just the first row now
    assert len(rows_of(parts["nums-0001.csv"])) == 13 and len(rows_of(parts["nums-0002.csv"])) == 13

    single = run(av, "split-csv", [("nums.csv", rows.encode())], {"rowsPerFile": 100})
    assert single["parts"] == 1 and single["downloadUrl"].split("?")[0].endswith(".csv")
    assert len(rows_of(fetch(av, single))) == 26
    body = refused(post(av, "split-csv", [("nums.csv", rows.encode())], {"rowsPerFile": 0}), 400, "VALIDATION_ERROR")
    assert "rowsPerFile" in body["details"]
    refused(post(av, "split-csv", [("nums.csv", rows.encode())], {"rowsPerFile": 1_000_001}), 400, "VALIDATION_ERROR")


def test_merge_csvs(av: TestClient) -> None:
    a = b"id,name\n1,Ann\n2,Bo\n"
    b = b"name;id\nCy;3\n"  # other delimiter, other column order
    body = run(av, "merge-csvs", [("files", "a.csv", a), ("files", "b.csv", b)])
    assert body["files"] == 2 and body["rows"] == 3
    assert rows_of(fetch(av, body)) == [["id", "name"], ["1", "Ann"], ["2", "Bo"], ["3", "Cy"]]

    r = post(av, "merge-csvs", [("files", "a.csv", a), ("files", "c.csv", b"id,email\n4,x@y\n")])
    body = refused(r, 400, "COLUMNS_DIFFER")
    assert "c.csv" in body["error"] and "'name'" in body["error"] and "'email'" in body["error"]
    refused(post(av, "merge-csvs", [("files", "a.csv", a)]), 400)
    many = [("files", f"{i}.csv", a) for i in range(51)]
    refused(post(av, "merge-csvs", many), 400)


def test_xml_to_csv_finds_the_records(av: TestClient) -> None:
    xml = b"""<?xml version="1.0"?>
<catalog xmlns="urn:x"><meta><owner>me</owner></meta>
  <products>
    <product sku="A1"><name>Pen</name><price currency="EUR">1.50</price><dims><w>1</w></dims></product>
    <product sku="B2"><name>Ink</name><price currency="USD">3</price><tag>x</tag><tag>y</tag></product>
    <product sku="C3"><name>Pad</name></product>
  </products>
</catalog>"""
    body = run(av, "xml-to-csv", [("catalog.xml", xml)])
    assert body["record"] == "product" and body["rows"] == 3
    rows = rows_of(fetch(av, body))
    header = rows[0]
    table = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert header[:2] == ["@sku", "name"]
    assert table[0]["price"] == "1.50" and table[0]["price@currency"] == "EUR" and table[0]["dims.w"] == "1"
    assert table[1]["tag"] == "x; y" and table[2]["price"] == ""
    refused(post(av, "xml-to-csv", [("x.xml", b"<?xml version='1.0'?><r><a>unclosed</r>")]), 400)
    refused(post(av, "xml-to-csv", [("x.csv", CSV)]), 415)
