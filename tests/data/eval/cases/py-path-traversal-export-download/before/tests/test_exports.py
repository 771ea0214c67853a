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


def test_download_rejects_other_suffix(client, export_file):
    assert client.get("/exports/notes.txt").status_code == 404
