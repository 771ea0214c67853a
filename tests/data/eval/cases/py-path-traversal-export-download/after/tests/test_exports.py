import os

import pytest


@pytest.fixture
def export_file(app, account):
    directory = os.path.join(app.config["EXPORT_ROOT"], str(account.id))
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "sales-2024-03.csv")
    with open(path, "w") as fh:
        fh.write("region,total\nEU,1200\n")
    return path


def test_list_exports(client, export_file):
    response = client.get("/exports/")
    assert response.status_code == 200
    assert [e["name"] for e in response.json] == ["sales-2024-03.csv"]


def test_download_export(client, export_file):
    response = client.get("/exports/sales-2024-03.csv")
    assert response.status_code == 200
    assert response.data.startswith(b"region,total")
    assert response.mimetype == "text/csv"


def test_download_uses_account_slug_in_filename(client, export_file, account):
    response = client.get("/exports/sales-2024-03.csv")
    disposition = response.headers["Content-Disposition"]
    assert f"filename={account.slug}-sales-2024-03.csv" in disposition


def test_download_missing_export(client, export_file):
    assert client.get("/exports/sales-1999-01.csv").status_code == 404


def test_download_rejects_other_suffix(client, export_file):
    assert client.get("/exports/notes.txt").status_code == 404
