"""Retail sample: orders as a CSV export, customers behind a paginated API.

Faithful to the dirt such exports carry: amounts with currency symbols and
thousands separators, status casing and padding, date-only next to full
timestamps, orders for customers the API does not know, later versions of the
same order, a trailing space and no final newline at the end of the file, API
fields that appear only in later pages — and a few rows that cannot be repaired
(they must become rejects, the rest must still land).
"""
from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

FIRST = ["Ana", "Ben", "Chloé", "Dev", "Eitan", "Fatima", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena",
         "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wei", "Yara", "Zoë"]
LAST = ["Almeida", "Brandt", "Cohen", "Dubois", "Eze", "Fischer", "García", "Haddad", "Ito", "Jensen",
        "Kowalski", "Larsen", "Müller", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Urban"]
COUNTRIES = ["US", "DE", "FR", "GB", "BR", "JP", "IN", "NG", "ES", "CA"]
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "returned"]
STATUS_WEIGHTS = [8, 12, 20, 45, 10, 5]
NEXT_STATUS = {"pending": "paid", "paid": "shipped", "shipped": "delivered", "delivered": "returned"}
PRODUCTS = {f"P{n:03d}": round(2.5 + (n * 7.31) % 180, 2) for n in range(1, 41)}
START = datetime(2024, 6, 1, tzinfo=timezone.utc)
DAYS = 30

# Rows the producer must reject, by kind; tests rely on these counts.
BAD_ORDER_ROWS = 5
BAD_CUSTOMER_RECORDS = 2


def _money(rng: random.Random, value: float) -> str:
    text = f"{value:,.2f}"
    style = rng.random()
    if style < 0.3:
        return f"${text}"
    if style < 0.4:
        return f"{text} USD"
    return text.replace(",", "") if style < 0.8 else text


def _status(rng: random.Random, status: str) -> str:
    style = rng.random()
    if style < 0.15:
        return status.upper()
    if style < 0.35:
        return status.capitalize()
    if style < 0.42:
        return f" {status} "
    return status


def _order_ts(rng: random.Random, moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d") if rng.random() < 0.08 else moment.strftime("%Y-%m-%d %H:%M:%S")


def customers(rng: random.Random, count: int) -> list[dict]:
    records = []
    for n in range(1, count + 1):
        signup = date(2022, 1, 1) + timedelta(days=rng.randrange(900))
        record = {
            "customer_id": f"C{n:05d}",
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "email": None if rng.random() < 0.05 else f"customer{n}@example.com",
            "signup_date": signup.isoformat(),
            "updated_at": (START - timedelta(minutes=rng.randrange(60 * 24 * 90))).isoformat(),
        }
        if n > count // 3:  # the API added `country` later: earlier pages lack the field
            record["country"] = rng.choice(COUNTRIES)
        records.append(record)
    for n in rng.sample(range(count), 5):  # later versions of existing customers
        update = dict(records[n], email=f"new.address{n}@example.com",
                      updated_at=(START + timedelta(days=rng.randrange(DAYS))).isoformat())
        records.append(update)
    records.insert(count // 2, {"customer_id": f"C{count + 1:05d}", "name": ["Ann", "Lee"],
                                "signup_date": "2023-02-01", "updated_at": START.isoformat()})
    records.insert(count // 4, {"customer_id": f"C{count + 2:05d}", "name": "Bo Park",
                                "signup_date": "2023-02-01", "updated_at": "last tuesday"})
    return records


def orders(rng: random.Random, count: int, customer_count: int) -> list[list[str]]:
    rows = []
    for n in range(1, count + 1):
        unknown = rng.random() < 0.02
        customer = f"C{rng.randrange(90000, 99999)}" if unknown else f"C{rng.randrange(1, customer_count + 1):05d}"
        product = rng.choice(list(PRODUCTS))
        quantity = rng.randint(1, 5)
        moment = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        row = [f"O{n:06d}", customer, product, _order_ts(rng, moment), str(quantity),
               _money(rng, PRODUCTS[product]), _money(rng, PRODUCTS[product] * quantity), "USD", status]
        rows.append(row)
        if status in NEXT_STATUS and rng.random() < 0.1:  # the order moved on: exported again
            rows.append(row[:8] + [_status(rng, NEXT_STATUS[status])])
        row[8] = _status(rng, status)
    bad = [
        ["O900001", "C00001", "P001", "yesterday", "1", "2.50", "2.50", "USD", "paid"],
        ["O900002", "C00002", "P002", "2024-06-03 10:00:00", "three", "9.81", "29.43", "USD", "paid"],
        ["", "C00003", "P003", "2024-06-03 10:00:00", "1", "17.12", "17.12", "USD", "paid"],
        ["O900004", "C00004", "P004", "2024-06-04 11:00:00", "2", "abc", "24.42", "USD", "shipped"],
        ["O900005", "C00005", "2024-06-05", "1", "9.99"],
    ]
    for offset, row in enumerate(bad):
        rows.insert((offset + 1) * len(rows) // (len(bad) + 1), row)
    return rows


def orders_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["order_id", "customer_id", "product_id", "order_ts", "quantity", "unit_price",
                     "amount", "currency", "status"])
    writer.writerows(rows)
    return buffer.getvalue().rstrip("\n") + " "  # the export's trailing space, no final newline


def write_sample(out: Path, scale: int = 1, seed: int = 7) -> dict[Path, int]:
    """Write orders.csv and customers.json under ``out``; returns records per file."""
    rng = random.Random(seed)
    customer_records = customers(rng, 400 * scale)
    order_rows = orders(rng, 3000 * scale, 400 * scale)
    out.mkdir(parents=True, exist_ok=True)
    orders_path, customers_path = out / "orders.csv", out / "customers.json"
    orders_path.write_text(orders_csv(order_rows), encoding="utf-8", newline="")
    customers_path.write_text(json.dumps(customer_records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {orders_path: len(order_rows), customers_path: len(customer_records)}
