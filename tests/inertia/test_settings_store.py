"""The settings store: the database over settings.ESCALATED over the environment over the
default; secrets encrypted and never shown; a change seen by every process; a request costs
at most one cache lookup."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalated import settings_store
from escalated.conf import escalated_settings
from escalated.models import StoredSetting
from escalated.services.settings import settings_update
from escalated.settings_store import SECRET_MASK, Editable
from tests.conftest import World
from tests.inertia.helpers import INERTIA, client_for, visit

pytestmark = pytest.mark.django_db


def test_each_layer_wins_over_the_ones_below(world: World, settings: Any, monkeypatch: Any) -> None:
    assert escalated_settings.MAX_ATTACHMENTS == 5  # the default

    monkeypatch.setenv("ESCALATED_MAX_ATTACHMENTS", "7")
    settings_store.assume_empty()  # a process reads its environment once
    assert escalated_settings.MAX_ATTACHMENTS == 7

    settings.ESCALATED = {"MAX_ATTACHMENTS": 9}
    assert escalated_settings.MAX_ATTACHMENTS == 9

    settings_update(actor=world.admin, values={"max_attachments_per_reply": 11})
    assert escalated_settings.MAX_ATTACHMENTS == 11
    assert escalated_settings.as_dict()["MAX_ATTACHMENTS"] == 11

    settings_update(actor=world.admin, values={}, reset=["max_attachments_per_reply"])
    assert escalated_settings.MAX_ATTACHMENTS == 9


def test_an_environment_value_that_fails_the_check_is_ignored(monkeypatch: Any, db: Any) -> None:
    monkeypatch.setenv("ESCALATED_MAX_ATTACHMENTS", "many")
    settings_store.assume_empty()
    assert escalated_settings.MAX_ATTACHMENTS == 5


def test_a_value_equal_to_the_hosts_is_not_stored(world: World, settings: Any) -> None:
    settings.ESCALATED = {"ALLOW_CUSTOMER_CLOSE": False}
    changed = settings_update(actor=world.admin, values={"allow_customer_close": False})
    assert changed == []
    assert not StoredSetting.objects.exists()


def test_the_store_changes_what_the_services_do(world: World) -> None:
    """A customer may close their ticket until an admin turns that off on the Settings page."""
    from escalated.errors import NotAllowed
    from escalated.services import tickets

    settings_update(actor=world.admin, values={"allow_customer_close": "0"})

    with pytest.raises(NotAllowed):
        tickets.ticket_close(ticket=world.ticket, actor=world.customer)


@pytest.fixture
def secret_key(monkeypatch: Any) -> str:
    """A secret among the editable keys, as the inbound-email keys will be (WEBHOOK_SECRET is
    an existing secret option)."""
    monkeypatch.setitem(
        settings_store.EDITABLE,
        "WEBHOOK_SECRET",
        Editable("WEBHOOK_SECRET", "webhook_secret", settings_store._text, secret=True),
    )
    return "webhook_secret"


def test_a_secret_is_encrypted_at_rest_and_never_shown(
    world: World, secret_key: str, gql: Any
) -> None:
    settings_update(actor=world.admin, values={secret_key: "s3cr3t-signing-key"})

    row = StoredSetting.objects.get(key="WEBHOOK_SECRET")
    assert row.value is None
    assert "s3cr3t" not in row.ciphertext
    assert settings_store.decrypt(row.ciphertext) == "s3cr3t-signing-key"
    assert escalated_settings.WEBHOOK_SECRET == "s3cr3t-signing-key"

    page = visit(client_for(world.admin), "/support/admin/settings/")
    assert page["props"]["settings"][secret_key] == SECRET_MASK
    assert "s3cr3t" not in str(page)
    data = gql("{ settings { key value isSecret isSet source } }", user=world.admin)["data"]
    entry = next(s for s in data["settings"] if s["key"] == secret_key)
    assert entry == {
        "key": secret_key,
        "value": None,
        "isSecret": True,
        "isSet": True,
        "source": "DATABASE",
    }


def test_a_secret_posted_back_masked_is_kept_and_posted_empty_is_removed(
    world: World, secret_key: str
) -> None:
    settings_update(actor=world.admin, values={secret_key: "first"})

    assert settings_update(actor=world.admin, values={secret_key: SECRET_MASK}) == []
    assert escalated_settings.WEBHOOK_SECRET == "first"
    settings_update(actor=world.admin, values={secret_key: ""})
    assert escalated_settings.WEBHOOK_SECRET is None
    assert not StoredSetting.objects.exists()


def test_a_secret_survives_a_secret_key_rotation(
    world: World, secret_key: str, settings: Any
) -> None:
    settings_update(actor=world.admin, values={secret_key: "kept"})
    old = settings.SECRET_KEY

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key", [old]

    settings_store.forget()
    assert escalated_settings.WEBHOOK_SECRET == "kept"


def test_another_process_sees_a_change_at_its_next_request(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    other = settings_store._Copy()  # another process, which read the store before the change
    other.reset({})
    assert other.current() == {}

    with django_capture_on_commit_callbacks(execute=True):
        settings_update(actor=world.admin, values={"show_powered_by": False})

    assert other.current() == {}  # within its recheck window, it keeps what it read
    other.stale = True  # what request_started does at its next request
    assert other.current() == {"SHOW_POWERED_BY": False}


def test_a_request_costs_at_most_one_cache_lookup_and_no_sql_for_settings(
    world: World, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        settings_update(actor=world.admin, values={"show_powered_by": False})
    client = client_for(world.customer)
    visit(client, "/support/")  # this process rereads once after the change
    lookups: list[str] = []
    real_get = cache.get

    def counted(key: str, *args: Any, **kwargs: Any) -> Any:
        if key == settings_store.CACHE_TOKEN_KEY:
            lookups.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", counted)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/support/", headers=INERTIA).json()

    assert page["props"]["escalated"]["show_powered_by"] is False
    assert len(lookups) <= 1
    assert not [q for q in queries.captured_queries if "escalated_settings" in q["sql"]]


def test_settings_update_answers_typed_errors_and_changes_nothing(world: World, gql: Any) -> None:
    result = gql(
        "mutation($input: SettingsUpdateInput!) { settingsUpdate(input: $input) "
        "{ changed errors { field code } } }",
        {
            "input": {
                "values": {
                    "max_attachment_size_kb": -1,
                    "no_such_thing": 1,
                    "allow_customer_close": False,
                }
            }
        },
        user=world.admin,
    )

    payload = result["data"]["settingsUpdate"]
    assert payload["changed"] == []
    assert sorted((e["field"], e["code"]) for e in payload["errors"]) == [
        ("maxAttachmentSizeKb", "INVALID"),
        ("noSuchThing", "UNKNOWN_FIELD"),
    ]
    assert not StoredSetting.objects.exists()


def test_settings_update_accepts_and_ignores_the_features_this_project_lacks(
    world: World, gql: Any
) -> None:
    result = gql(
        "mutation($input: SettingsUpdateInput!) { settingsUpdate(input: $input) "
        "{ changed errors { field } } }",
        {
            "input": {
                "values": {
                    "chat_enabled": True,
                    "widget_color": "#fff",
                    "knowledge_base_public": True,
                }
            }
        },
        user=world.admin,
    )
    assert result["data"]["settingsUpdate"] == {"changed": [], "errors": []}
    assert not StoredSetting.objects.exists()
