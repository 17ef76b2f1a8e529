"""Tenant creation: replaying the template's DDL (what we do, tenants/schema_template.py)
against running the tenant migrations and django-tenants' clone of a template schema. All
measured in the same run; the ratios are what counts. (At 10/100/1,000 tenants:
test_tenant_scale_bench.py.)"""

import statistics
import time
import uuid

import pytest
from django.db import connection
from django.test import override_settings

from tenants.models import Tenant

N = 5


def _create(prefix: str) -> float:
    started = time.perf_counter()
    Tenant(schema_name=f"{prefix}_{uuid.uuid4().hex[:8]}", name="bench").save(verbosity=0)
    return time.perf_counter() - started


@pytest.mark.bench
def test_tenant_creation_migrations_vs_clone():
    template = f"bench_template_{uuid.uuid4().hex[:6]}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenants_tenant")
        existing = cursor.fetchone()[0]
    with override_settings(TENANT_SCHEMA_REPLAY=False):
        migrate = [_create("bench_mig") for _ in range(N)]
        Tenant(schema_name=template, name="template").save(verbosity=0)  # migrated once
        with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=True, TENANT_BASE_SCHEMA=template):
            _create("bench_warm")  # installs django-tenants' clone_schema() SQL function
            clone = [_create("bench_clone") for _ in range(N)]
    _create("bench_warm")  # captures the template's DDL once per process
    replay = [_create("bench_replay") for _ in range(N)]
    base, other, ours = (statistics.median(x) for x in (migrate, clone, replay))
    print(
        f"\ntenant create with {existing} tenants: migrations median {base * 1000:.0f} ms, "
        f"clone median {other * 1000:.0f} ms ({other / base:.2f}), "
        f"replayed DDL median {ours * 1000:.0f} ms ({ours / base:.2f})"
    )
    assert base < 5 and other < 5 and ours < 5
