"""The manager's form: served only to that hospital's managers (and admins), enforced on the server."""

from __future__ import annotations

import pytest

from cop.app import create_app
from cop.domain.users import Role
from cop.store.users import UserStore
from tests.conftest import PASSWORD
from tests.integration.test_web_access import login


@pytest.fixture
def app(settings, store):
    users = UserStore(store.client, store.keys)
    users.add("manager.a", PASSWORD, Role.HOSPITAL_MANAGER, hospitals=frozenset({"1470"}))
    users.add("boss", PASSWORD, Role.ADMIN)
    users.add("analyst", PASSWORD, Role.ANALYST)
    return create_app(settings, store)


def save_request(hospital_id: str, available: int = 3) -> dict:
    """The JSON Dash posts when the Save button of the form is pressed."""
    bed = {"type": "cop-bed-input", "bed": "AdultICU", "field": "available"}
    return {
        "output": "cop-hospital-saved.children",
        "outputs": {"id": "cop-hospital-saved", "property": "children"},
        "inputs": [
            {"id": "cop-hospital-save", "property": "n_clicks", "value": 1},
            [{"id": bed, "property": "n_submit", "value": None}],
        ],
        "changedPropIds": ["cop-hospital-save.n_clicks"],
        "state": [
            [{"id": bed, "property": "value", "value": available}],
            [{"id": bed, "property": "id", "value": bed}],
            {"id": "cop-hospital-ems", "property": "value", "value": "Normal"},
            {"id": "cop-hospital-comment", "property": "value", "value": ""},
            {"id": "cop-hospital-id", "property": "data", "value": hospital_id},
        ],
    }


def test_a_manager_opens_only_their_own_hospital(app):
    client = app.server.test_client()
    login(client, "manager.a")
    assert client.get("/hospitals/1470/edit").status_code == 200
    assert client.get("/hospitals/4210/edit").status_code == 403


def test_a_manager_cannot_save_another_hospital(app, store):
    client = app.server.test_client()
    login(client, "manager.a")
    refused = client.post("/_dash-update-component", json=save_request("4210"))
    assert refused.status_code == 403
    assert store.client.xlen(store.keys.stream("hospital")) == 129  # only the seed
    accepted = client.post("/_dash-update-component", json=save_request("1470"))
    assert accepted.status_code == 200, accepted.get_data(as_text=True)[:500]
    assert "Saved at" in accepted.get_data(as_text=True)
    assert store.client.xlen(store.keys.stream("hospital")) == 130


def test_admins_may_edit_any_hospital_and_analysts_none(app):
    admin = app.server.test_client()
    login(admin, "boss")
    assert admin.get("/hospitals/4210/edit").status_code == 200
    analyst = app.server.test_client()
    login(analyst, "analyst")
    assert analyst.get("/hospitals/1470/edit").status_code == 403
    assert analyst.post("/_dash-update-component", json=save_request("1470")).status_code == 403
