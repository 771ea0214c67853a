def test_list_reports(client):
    assert client.get("/reports/").json() == ["revenue_by_region", "signups"]


def test_get_report_columns(client, warehouse):
    warehouse.rows["revenue_by_region"] = [
        {"region": "EU", "day": "2024-05-01", "revenue": 1200.0, "orders": 31},
    ]
    body = client.get("/reports/revenue_by_region", params={"columns": "region,orders"}).json()
    assert body["rows"] == [{"region": "EU", "orders": 31}]


def test_unknown_report(client):
    assert client.get("/reports/nope").status_code == 404
