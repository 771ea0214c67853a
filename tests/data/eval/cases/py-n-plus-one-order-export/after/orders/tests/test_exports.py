import csv
import io

import pytest
from django.urls import reverse

from orders.tests.factories import OrderFactory


@pytest.mark.django_db
def test_export_lists_recent_orders(admin_client):
    order = OrderFactory(total="19.90")
    response = admin_client.get(reverse("orders:export"))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "order_id"
    assert rows[1][0] == str(order.pk)
    assert rows[1][4] == "19.90"
    assert rows[1][5] == order.customer.email
    assert rows[1][7] == str(order.lines.count())


@pytest.mark.django_db
def test_export_skips_drafts(admin_client):
    OrderFactory(status="draft")
    response = admin_client.get(reverse("orders:export"))
    body = b"".join(response.streaming_content).decode()
    assert len(body.strip().splitlines()) == 1
