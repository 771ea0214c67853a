"""CSV export of orders for the finance team."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.dateparse import parse_date

from orders.models import Order

HEADER = ["order_id", "placed_at", "status", "currency", "total"]


class _Echo:
    """A file-like object whose write() returns the value, for streaming csv."""

    def write(self, value: str) -> str:
        return value


def _since(request: HttpRequest) -> date:
    parsed = parse_date(request.GET.get("since", ""))
    return parsed or date.today() - timedelta(days=30)


def _rows(orders):
    yield HEADER
    for order in orders:
        yield [
            order.pk,
            order.placed_at.isoformat(),
            order.status,
            order.currency,
            f"{order.total:.2f}",
        ]


@staff_member_required
def export_orders(request: HttpRequest) -> StreamingHttpResponse:
    since = _since(request)
    orders = (
        Order.objects.filter(placed_at__date__gte=since)
        .exclude(status=Order.Status.DRAFT)
        .order_by("placed_at")
        .iterator(chunk_size=2000)
    )
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _rows(orders)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="orders-since-{since}.csv"'
    return response
